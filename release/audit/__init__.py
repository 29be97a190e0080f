"""Independent audit of a bundle (``release audit``): checks on the bundle alone, on the bundle and the
raw export, the ledger, and the replays of tables and record-level files."""
