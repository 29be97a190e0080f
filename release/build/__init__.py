"""One build: options, the orchestrator (the only place that knows the order of the stages), the
tables facade, the draft bundle's assembly, and many years in one run.

Build never imports ``release.governance`` or ``release.audit``: what it needs of earlier bundles it
reads through ``release.bundle``."""
