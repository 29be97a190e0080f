"""Configuration, read and validated before the first stage: dataset policies, column rules, codebooks,
the program's privacy policy and the tables policy.

YAML -> frozen typed models, in three phases (read, validate, build). Every other package reads it, so it
imports only ``release.errors``, ``release.model``, ``release.paths`` and ``release.keys`` (which parses the
keys the rules pin): it says where the ledger and its witness are, and ``release.privacy.ledger_open``
opens them. What approving a bundle needs of the trusted rules folder (its signers list, the approvals
in force) reads bundles, so it is ``release.bundle.trust``."""
