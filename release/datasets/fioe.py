"""FIOE: the frames the aggregate tables are counted from, and the keyed person.

The record-level files need nothing beyond the policy. They publish, per row, each dimension
of the report tables (month, neighbourhood, race, sex, basis, circumstance, frisk), so those
tables are **summaries** of the public files (exact, no privacy claim; see
``redaction_rules/fioe_tables.yaml``): ``people`` (one row per person in a report) and
``reports`` (one row per report and basis) are built here only for the recount checks.

What the files cannot give is how often one *person* is stopped: FIOE has no published person
identifier. ``contact_people`` has one row per person, keyed by an HMAC under the release key
of the normalized surname and date of birth (raw-only columns; the key never leaves this
process: not the bundle, not the ledger). Blocking on surname + date of birth may join two
people (twins, namesakes born the same day), which is safe because the noise is calibrated to a
unit's rows *changing*; it never splits one person whose records agree on those two values
(case, accents, spaces, punctuation and date formats are normalized). Rows without a surname or
a readable date of birth cannot be attributed to a person and are left out (counted in the
findings). Each person is randomly truncated, by a keyed priority per report, to
``max_reports_per_person_per_year`` reports (k), so no person weighs more than k in any table
on this unit; the person's row then carries the number of reports kept and the neighbourhood
of their earliest kept report.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
from pydantic import Field

from release.datasets import DeriveContext, Derived
from release.datasets.common import FrozenRules, dataset_rules, parse_date
from release.keys import Tokenizer, keyed_digest
from release.model import Finding

PERSON_KEY = "person-key/v1"
TRUNCATION = "report-truncation/v1"
_NOT_LETTER = re.compile(r"[^a-z]")


class FioeRules(FrozenRules):
    max_reports_per_person_per_year: int = Field(default=6, ge=1, le=52)


def _month(dates: pd.Series) -> pd.Series:
    return dates.astype("string").str.slice(0, 7).astype(object)


def normalized_surname(value: object) -> str | None:
    """Letters only, accents removed, case-folded: ``Peña-Almonte`` and ``PENA ALMONTE`` agree."""
    if not isinstance(value, str):
        return None
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    letters = _NOT_LETTER.sub("", plain.casefold())
    return letters or None


def person_keys(persons: pd.DataFrame, tokenizer: Tokenizer) -> pd.Series:
    """The keyed person key of each persons row (None when surname or date of birth is missing)."""
    keys = []
    for surname, dob in zip(persons["last_name"].tolist(), persons["dob"].tolist()):
        name, born = normalized_surname(surname), parse_date(dob)
        keys.append(keyed_digest(tokenizer, PERSON_KEY, name, born.isoformat()) if name and born else None)
    return pd.Series(keys, index=persons.index, dtype=object)


def contact_people(persons: pd.DataFrame, contacts: pd.DataFrame, tokenizer: Tokenizer,
                   max_reports: int, keys: pd.Series | None = None) -> tuple[pd.DataFrame, int]:
    """One row per keyed person: reports kept (at most ``max_reports``) and the neighbourhood
    of the earliest one. Also returns how many persons rows had no key (``keys``: the rows'
    person keys, when already computed)."""
    keys = person_keys(persons, tokenizer) if keys is None else keys
    first = contacts.drop_duplicates("fc_num").set_index("fc_num")
    pairs = pd.DataFrame({"unit_id": keys, "fc_num": persons["fc_num"]}).dropna()
    pairs = pairs[pairs["fc_num"].isin(first.index)].drop_duplicates()  # a person twice in a report counts once
    pairs["priority"] = [keyed_digest(tokenizer, TRUNCATION, k, f) for k, f in zip(pairs["unit_id"], pairs["fc_num"])]
    kept = pairs.sort_values(["unit_id", "priority"]).groupby("unit_id", sort=False).head(max_reports).copy()
    kept["date"] = kept["fc_num"].map(first["contact_date"]).astype("string").fillna("")
    kept["neighbourhood"] = kept["fc_num"].map(first["city"])
    earliest = kept.sort_values(["unit_id", "date", "fc_num"]).drop_duplicates("unit_id")
    frame = pd.DataFrame({
        "unit_id": earliest["unit_id"].tolist(),
        "contacts": earliest["unit_id"].map(kept.groupby("unit_id").size()).astype(str).tolist(),
        "neighbourhood": earliest["neighbourhood"].tolist(),
    }, dtype=object)
    return frame, int(keys.isna().sum())


def derive(context: DeriveContext) -> Derived:
    if context.policy.tables_file is None:
        return Derived()  # a generation without aggregate tables (fioe_rms.yaml, fioe_legacy.yaml): no frame to count
    rules = dataset_rules(context.policy, FioeRules)
    contacts = context.raw["contacts"]
    persons = context.raw["persons"]
    first = contacts.drop_duplicates("fc_num").set_index("fc_num")
    people = pd.DataFrame({
        "unit_id": persons["_row_key"].tolist(),
        "fc_num": persons["fc_num"].tolist(),
        "month": _month(persons["fc_num"].map(first["contact_date"])).tolist(),
        "neighbourhood": persons["fc_num"].map(first["city"]).tolist(),
        "race": persons["race"].tolist(),
        "sex": persons["sex"].tolist(),
        "ethnicity": persons["ethnicity"].tolist(),
        "was_frisked": persons["was_frisked"].tolist(),
        "circumstance": persons["fc_num"].map(first["circumstance"]).tolist(),
    }, dtype=object)
    reports = pd.DataFrame({
        "unit_id": contacts["fc_num"].tolist(),
        "fc_num": contacts["fc_num"].tolist(),
        "month": _month(contacts["contact_date"]).tolist(),
        "neighbourhood": contacts["city"].tolist(),
        "basis": contacts["basis"].tolist(),
        "circumstance": contacts["circumstance"].tolist(),
    }, dtype=object)
    k = rules.max_reports_per_person_per_year
    keys = person_keys(persons, context.tokenizer)
    keyed, unkeyed = contact_people(persons, contacts, context.tokenizer, k, keys)
    # the linkage check's truth: each persons row's person (release/linkage.py); never published
    person_rows = pd.DataFrame({"row_key": persons["_row_key"].astype(str).tolist(), "unit_id": keys.tolist()},
                               dtype=object)
    findings = (Finding(stage="derive", code="persons_without_person_key", severity="info",
                        message="persons rows without a surname or a readable date of birth: not attributed to "
                                "a person, so left out of the person-level table", file="fieldcontact_name.csv",
                        rule="dataset_rules.person_key", count=unkeyed),) if unkeyed else ()
    notes = (
        "The tables of people, frisks and report bases are summaries of the published files (each of "
        "their dimensions is a column of every public row): exact, with no privacy claim and no budget.",
        f"The number of people by how often they were stopped is protected (OpenDP, zero-concentrated "
        f"DP) at the person level: a person is a keyed surname and date of birth that is never "
        f"published, each person counts at most {k} reports a year (a random subset beyond that), and "
        "the noise allows one person to change their unit's row. So that the persons file cannot link one "
        "person's reports instead, it publishes build, hair style, skin tone and licence blank and adult ages "
        "in bands while this table is published; a build in which the persons and contacts files still link "
        "two or more reports of a person within fewer than a handful of people withholds the table (a warning "
        "in the packet says so, with counts).",
    )
    return Derived(table_frames={"people": people, "reports": reports, "contact_people": keyed,
                                 "person_rows": person_rows},
                   findings=findings, notes=notes)
