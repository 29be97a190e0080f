"""After the build: listing, review decisions, approval, the gate, publication and verifying a published
copy. Governance runs the audit (``release.audit``), whose trusted-rules checks every gate applies to a
bundle; the audit never imports governance."""
