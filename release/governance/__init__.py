"""After the build: listing, review decisions, approval, the gate, publication, verifying a published
copy, and the trusted-rules checks every gate applies to a bundle."""
