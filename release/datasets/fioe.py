"""FIOE: the frames the aggregate tables are counted from, and the keyed person.

The record-level files need nothing beyond the policy. They publish, per row, each dimension
of the report tables (month, neighbourhood, race, sex, basis, circumstance, frisk), so those
tables are **summaries** of the public files (exact, no privacy claim; see
``redaction_rules/fioe_tables.yaml``): ``people`` (one row per person in a report) and
``reports`` (one row per report and basis) are built here only for the recount checks.

What the files cannot give is how often one *person* is stopped: the public persons file carries
no identifier of a person beyond the release (``person_id`` is a keyed pseudonym, the same only
within the year; the linkage check judges what it and the other columns link). ``contact_people``
has one row per person, a person being every persons row joined, directly or through others, by
either of two keys computed under the release key (raw-only values; the keys never leave this
process: not the bundle, not the ledger):

- the normalized surname and date of birth: it may join two people (twins, namesakes born the
  same day) and never splits one whose records agree on those two values (case, accents, spaces,
  punctuation and date formats are normalized);
- the export's ``person_id`` (Mark43's person id, normalized as its pseudonym is): the
  City's 2022 file has no names or dates of birth, only this id, so without it no row would be
  attributed and one person's rows would not be joined.

Rows sharing either key are one unit (a union of the two blockings, ``_joined``): merging people
is safe, because the noise is calibrated to a unit's row *changing*; splitting one is not. Rows
with neither key cannot be attributed to a person and are left out (counted in the findings).
Each person is randomly truncated, by a keyed priority per report, to
``max_reports_per_person_per_year`` reports (k), so no person weighs more than k in any table
on this unit; the person's row then carries the number of reports kept and the neighbourhood
of their earliest kept report.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from release.config.policy import DatasetPolicy
from release.config.tables import MERGED_UNITS, SPLIT_UNITS
from release.datasets import DeriveContext, Derived, Note
from release.datasets.common import FrozenRules, dataset_rules, parse_date
from release.keys.hmac import Tokenizer, keyed_digest, normalize_value
from release.model import Finding

PERSON_KEY = "person-key/v1"
PERSON_ID_KEY = "person-id-key/v1"
TRUNCATION = "report-truncation/v1"
_NOT_LETTER = re.compile(r"[^a-z]")


class FioeRules(FrozenRules):
    """FIOE's ``dataset_rules``: the bound on one person's reports in a year, to which each keyed person is
    truncated."""

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
    """The keyed person of each persons row: rows sharing a surname and date of birth, or a person
    id, are one person, transitively (None when a row has neither)."""
    return person_units(persons, tokenizer)[0]


def person_units(persons: pd.DataFrame, tokenizer: Tokenizer) -> tuple[pd.Series, int]:
    """The person key of each row (``person_keys``), and how many units no one key holds whole (a
    chain of keys): only such a unit can split when one person's rows are removed
    (release/stages/noise.md, section 2)."""
    return _joined(_surname_birth_keys(persons, tokenizer), _person_id_keys(persons, tokenizer))


def _surname_birth_keys(persons: pd.DataFrame, tokenizer: Tokenizer) -> pd.Series:
    keys = []
    for surname, dob in zip(persons["last_name"].tolist(), persons["dob"].tolist(), strict=True):
        name, born = normalized_surname(surname), parse_date(dob)
        keys.append(keyed_digest(tokenizer, PERSON_KEY, name, born.isoformat()) if name and born else None)
    return pd.Series(keys, index=persons.index, dtype=object)


def _person_id_keys(persons: pd.DataFrame, tokenizer: Tokenizer) -> pd.Series:
    """The keyed ``person_id``, in the form its public pseudonym is made from (so the key joins
    every pair of rows the pseudonym joins); None where the export has none."""
    ids = persons["person_id"].tolist() if "person_id" in persons.columns else [None] * len(persons)
    normalized = [normalize_value(v) if isinstance(v, str) else "" for v in ids]
    keys = [keyed_digest(tokenizer, PERSON_ID_KEY, v) if v else None for v in normalized]
    return pd.Series(keys, index=persons.index, dtype=object)


def _joined(*blockings: pd.Series) -> tuple[pd.Series, int]:
    """Each row's unit under several blockings at once: the connected component of a graph whose
    nodes are the rows and the key values, a row linked to each of its keys, so rows sharing a
    key of any blocking are one unit. A unit is named by the least key in it (the same on the
    same data, whatever the row order); a row with no key is in no unit (None). Also the number
    of units that removing some of their rows could split: those where no one key is held by every
    row (a chain: one key joins the first rows, another the last ones)."""
    index = blockings[0].index
    rows = len(index)
    present = [np.flatnonzero(b.notna().to_numpy()) for b in blockings]
    codes, names = pd.factorize(np.concatenate([b.to_numpy()[p] for b, p in zip(blockings, present, strict=True)]))
    if not len(codes):
        return pd.Series([None] * rows, index=index, dtype=object), 0
    graph = sparse.coo_matrix((np.ones(len(codes)), (np.concatenate(present), rows + codes)),
                              shape=(rows + len(names), rows + len(names)))
    _, component = connected_components(graph, directed=False)
    unit_name = pd.Series(np.asarray(names, dtype=object)).groupby(component[rows:]).min()
    units = pd.Series(component[:rows]).map(unit_name)
    # a unit can fall apart when some of its rows go only if no one key is held by all of its rows
    # (rows all sharing a surname and birth date stay joined whatever rows leave; a chain does not)
    unit_rows = np.bincount(component[:rows], minlength=len(component))
    widest = np.zeros(len(component), dtype=np.int64)
    np.maximum.at(widest, component[rows:], np.bincount(codes, minlength=len(names)))
    may_split = int(((unit_rows >= 2) & (widest < unit_rows)).sum())
    return pd.Series([u if isinstance(u, str) else None for u in units], index=index, dtype=object), may_split


def contact_people(persons: pd.DataFrame, contacts: pd.DataFrame, tokenizer: Tokenizer,
                   max_reports: int, keys: pd.Series | None = None) -> tuple[pd.DataFrame, int]:
    """One row per keyed person: reports kept (at most ``max_reports``) and the neighbourhood
    of the earliest one. Also returns how many persons rows had no key (``keys``: the rows'
    person keys, when already computed)."""
    keys = person_keys(persons, tokenizer) if keys is None else keys
    first = contacts.drop_duplicates("fc_num").set_index("fc_num")
    pairs = pd.DataFrame({"unit_id": keys, "fc_num": persons["fc_num"]}).dropna()
    pairs = pairs[pairs["fc_num"].isin(first.index)].drop_duplicates()  # a person twice in a report counts once
    pairs["priority"] = [keyed_digest(tokenizer, TRUNCATION, k, f)
                         for k, f in zip(pairs["unit_id"], pairs["fc_num"], strict=True)]
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


NOTES = (  # the dataset's notes (``datasets.Note``): the build fills them, the trusted checks hold a manifest to them
    Note("The tables of people, frisks and report bases are summaries of the published files (each of "
         "their dimensions is a column of every public row): exact, with no privacy claim and no budget."),
    Note("The number of people by how often they were stopped is protected (OpenDP, zero-concentrated "
         "DP) at the person level: a person is every row joined by a keyed surname and date of birth or by "
         "the export's person id (neither is published as it is), each person counts at most {k} reports a "
         "year (a random subset beyond that), and the noise allows one person to change their unit's row. "
         "So that the persons file cannot link one person's reports instead, it publishes build, hair style, "
         "skin tone and licence blank and adult ages in bands while this table is published; a build in which "
         "the persons and contacts files still link two or more reports of a person within fewer than a "
         "handful of people withholds the table (a warning in the packet says so, with counts). A person "
         "whose records share neither key (a surname or date of birth typed differently, and another person "
         "id) cannot be told from two people and counts as two: for such a person the guarantee is that of "
         "a group of two (in zero-concentrated DP, four times the stated rho), as it is in any linkage "
         "that cannot see a typing error."),
)


def note_values(policy: DatasetPolicy, year: int) -> dict[str, object]:
    """The notes' slots the trusted policy gives (``datasets.Note``)."""
    return {"k": dataset_rules(policy, FioeRules).max_reports_per_person_per_year}

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
    keys, may_split = person_units(persons, context.tokenizer)
    keyed, unkeyed = contact_people(persons, contacts, context.tokenizer, k, keys)
    keyed.attrs[MERGED_UNITS] = True  # a unit may join people: the noise must cover a changed row
    keyed.attrs[SPLIT_UNITS] = may_split  # a unit one person's removal would split: its tables are withheld
    # the linkage check's truth: each persons row's person (release/privacy/linkage.py); never published
    person_rows = pd.DataFrame({"row_key": persons["_row_key"].astype(str).tolist(), "unit_id": keys.tolist()},
                               dtype=object)
    findings: tuple[Finding, ...]
    findings = (Finding(stage="derive", code="persons_without_person_key", severity="info",
                        message="persons rows with neither a person id nor a surname and a readable date of "
                                "birth: not attributed to a person, so left out of the person-level table",
                        file="fieldcontact_name.csv",
                        rule="dataset_rules.person_key", count=unkeyed),) if unkeyed else ()
    findings += (Finding(stage="derive", code="person_units_may_split", severity="info",
                         message="persons joined by a chain of keys (a surname and date of birth with some rows, a "
                                 "person id with others, no key on all): removing one person who alone links the others would "
                                 "split such a unit in two, which the noise does not cover: the person-level tables "
                                 "are withheld (release/stages/noise.md, section 2)", file="fieldcontact_name.csv",
                         rule="dataset_rules.person_key", count=may_split),) if may_split else ()
    notes = (NOTES[0](), NOTES[1](k=k))
    return Derived(table_frames={"people": people, "reports": reports, "contact_people": keyed,
                                 "person_rows": person_rows},
                   findings=findings, notes=notes)
