"""Configuration, read and validated before the first stage: dataset policies, column rules, codebooks,
the program's privacy policy, the tables policy, the published schema and the trusted rules folder.

YAML -> frozen typed models, in three phases (read, validate, build). Imports nothing above it but
``release.errors``, ``release.model``, ``release.paths``, ``release.keys`` and ``release.datasets``."""
