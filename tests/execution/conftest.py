"""Fixtures of the execution tests: the export whose builds must give the same release wherever their
PII work ran, shared with ``tests/pii/`` (``pii.same_release``)."""

from pii.same_release import export  # noqa: F401 (the fixture)
