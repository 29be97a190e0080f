"""Independent audit of a bundle (``release audit``): checks on the bundle alone, on the bundle and the
raw export, the ledger, the replays of tables and record-level files, and the release held to the trusted
rules as a whole (``trusted_*``, ``public_content``), which the gate also applies before it signs or
publishes. Below governance: the audit imports no governance module."""
