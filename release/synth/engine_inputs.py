"""A synthetic FIOE export as `release fioe` hands it to the PII engine.

Benchmarks and tests that drive ``PiiEngine`` directly need each narrative with its
record's terms and the officer roster. Rather than rebuild those from the generator's
dicts (a second, drifting copy of ``stages.redact.record_terms``), the export is written
to a temporary folder and read back through the real loader and term collection.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from release.config.policy import load_policy
from release.model import Tables
from release.paths import default_dir
from release.pii.terms import RecordTerms
from release.stages.load import load_export
from release.stages.redact import officer_roster, record_terms
from release.synth.fioe import SyntheticFioe, write_fioe


@dataclass(frozen=True)
class EngineInputs:
    """Each narrative with its record's terms and the roster, as a build hands them to the PII engine, and the
    tables they came from."""

    keys: list[str]  # one per report row with a narrative (fc_num, repeated for each basis row)
    texts: list[str]
    terms: list[RecordTerms]
    officers: tuple[str, ...]
    tables: Tables


def engine_inputs(data: SyntheticFioe, year: int, *, one_per_report: bool = False) -> EngineInputs:
    """Narratives, terms and roster of ``data`` through load → record_terms → officer_roster."""
    policy = load_policy(default_dir("redaction_rules")[0] / "fioe.yaml")
    with tempfile.TemporaryDirectory() as folder:
        write_fioe(data, Path(folder))
        tables = load_export(Path(folder), policy, year).tables
    by_record = record_terms(tables, policy)
    contacts = tables["contacts"]
    if one_per_report:
        contacts = contacts.drop_duplicates("fc_num")
    contacts = contacts[contacts["contact_reason"].notna()]
    keys = contacts["fc_num"].tolist()
    return EngineInputs(keys=keys, texts=contacts["contact_reason"].tolist(),
                        terms=[by_record.get(key, RecordTerms()) for key in keys],
                        officers=officer_roster(tables, policy), tables=tables)
