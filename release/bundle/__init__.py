"""The release bundle as files: where it lives, its typed manifest, the hash-chained redaction log, the
JSON lines it holds, the record-level files' parts and the form every file goes out in.

Governance and audit read bundles through this package only."""
