"""The privacy ledger's witness: the record outside the ledger that anchors its chain (a folder, or the
witness service with its store, protocol and client)."""
