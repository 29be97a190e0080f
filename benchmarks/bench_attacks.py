"""Attacks on what is PUBLISHED: the bundled FIOE, shootings and YouthConnect releases, and shootings as tables only.

Run: .venv/bin/python benchmarks/bench_attacks.py [--rebuilds 10] [--draws 200] [--keep DIR] [--lp-only]

The releases are built into a scratch folder with their own key and ledgers (FIOE 2020 and
shootings 2020 from the bundled samples; YouthConnect 2019 and 2020 from its bundled sample,
as the tests do). Those releases suppress nothing (their exact tables are labelled summaries of
the record-level files), so one more set is built to give the LP attack something to attack:
**shootings as tables only**, a choice a department could make (``tables_only_rules``: the
victim-level file, a row per victim with its day, district and demographics, is not published;
the one public table counts victims by district and month over the 24 months to the year's end,
as a dashboard's rolling window does; counts of 1 to 3 are hidden, each hidden cell keeps a range
at least 4 wide and each hidden small count v a range from v - 3 (or zero) to v + 3). Its 2019
and 2020 releases are built from one synthetic export (``release sample shootings``), then 2019
again once 2020 is out, into one releases folder. ``--lp-only`` builds only that set and runs
only the LP attack (a minute). Then an outsider who holds only the public files of every year
in those releases folders attacks them:

1. **recount** - rebuild every table from the record-level files (``RECIPES``: which public
   column gives which dimension, as the data dictionary says) and count the cells of
   *protected* tables (``privacy.json``: not a summary) that the files give exactly;
   summaries are recounted too, to show their label is honest;
2. **LP** - for each suppressed cell of every year, its min and max (scipy HiGHS) over every
   table that counts the same cells (the same table, or its declared family, of the same data
   year, or of the same months when a month dimension dates the cells: one year's rolling window
   repeats another's months) in every year: exact cells as equations, noisy cells as interval
   constraints, the microdata recounted as equations, counts >= 0. A cell is narrowed when its
   range (rounded inwards: counts are whole) is narrower than the protection width
   ``privacy.json`` declares, or, for a hidden count of 1 to the threshold, does not reach its
   lower and upper protection levels (judged with the true counts, from the raw export through
   the library), or when an LP does not end optimal (no proof). The figure is "narrowed of
   suppressed cells", every year's tables counted;
3. **rebuilds** - the ledger's total rho after one build, after 10 rebuilds on the same data,
   and after 10 rebuilds that each change one raw row the protected tables count (a small
   synthetic FIOE export stands in for the 2.5-minute sample; YouthConnect uses its sample);
4. **margin bias** - published margins minus true margins, averaged over ``--draws`` fresh
   OpenDP draws of the protected tables, in units of the noise SD of each margin's estimate
   (truth from the raw sample through the library): the largest over every margin cell, the
   largest over margins at least 3 SDs from zero (the floor at zero cannot reach them), and
   the grand total. A mean of ``--draws`` draws is itself uncertain by about 1/sqrt(draws) SD;
5. **uniqueness** - share of record-level rows unique on the quasi-identifiers as published;
6. **repeats** - cells of a dated table (a ``month`` dimension) published by two releases with
   different values: re-measuring a month lets an outsider average the draws;
7. **linkage** - the person-level protected table's people, linked through the public files: the
   persons file's rows, each with its report's contacts row: for a pair of a person's rows in two
   reports, the rows alike on every published column the two agree on (but ``NOT_LINKING``; the
   hour of day too); a person is exposed when such a class holds fewer than 5 people (truth: the
   build's person key, rows joined by a keyed surname and date of birth or person_id, from the raw
   sample through the library). The bundled sample draws every person afresh (its people in two reports are
   namesakes born the same day, whom the key merges): the figure shows the attack ran, not that
   a real year is safe (noise.md, 1 and 11).

An independent attacker extends it by adding a recipe (``RECIPES``), a constraint source
(``lp_attack``) or a quasi-identifier set (``QUASI``); nothing here uses the library's own
checks to judge the library, only (in 4) its noise and post-processing to draw samples and (in
2, 4 and 7) its loading and tabulation of the raw export for the truth.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import linprog

if TYPE_CHECKING:
    from release.config.tables import TableSpec
    from release.keys.hmac import Tokenizer
    from release.stages.tabulate import TableCounts

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RELEASE = str(Path(sys.executable).with_name("release"))
SAMPLES = ROOT / "release" / "samples"
ALL = "All"
CATCH_ALL = ("Outside Boston", "Other", "Unknown")
QUASI = {"fioe": ("persons", ("contact_date", "sex", "race", "age", "age_band")),
         "shootings": ("victims", ("shooting_date", "district", "victim_gender", "victim_race",
                                   "victim_ethnicity_NIBRS"))}


# ---- the public files of a releases folder ---------------------------------------------

@dataclass
class Published:
    dataset: str
    year: int
    files: dict[str, pd.DataFrame]            # record-level public files, by the stem after the year
    tables: dict[str, pd.DataFrame]           # public/tables/*.csv
    privacy: dict[str, dict[str, object]]     # privacy.json, per table


def read_releases(out: Path) -> list[Published]:
    found = []
    for folder in sorted(out.glob("*/[0-9][0-9][0-9][0-9]/public")):
        dataset, year = folder.parent.parent.name, int(folder.parent.name)
        read = lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)  # noqa: E731
        files = {p.stem.split(f"_{year}_", 1)[-1]: read(p) for p in folder.glob("*.csv")}
        tables = {p.stem: read(p) for p in (folder / "tables").glob("*.csv")}
        statement = json.loads((folder / "privacy.json").read_text()) if (folder / "privacy.json").is_file() else {}
        found.append(Published(dataset, year, files, tables, {t["table"]: t for t in statement.get("tables", [])}))
    return found


# ---- 1. recount from the record-level files --------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """How an outsider rebuilds a table's rows: a base file, a parent joined on a key, the
    public column behind each dimension, a row filter, and the unit counted once per cell."""

    base: str
    columns: dict[str, str]                   # dimension -> column ("parent.<col>" for the parent)
    parent: str | None = None
    key: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    once_per: str | None = None


FIOE_PERSON = dict(base="persons", parent="contacts", key="fc_num")
RECIPES: dict[str, dict[str, Recipe | str]] = {
    "fioe": {
        "fioe_people_by_neighbourhood_race_month": Recipe(
            **FIOE_PERSON, columns={"neighbourhood": "parent.city", "race": "race", "month": "contact_date"}),
        "fioe_frisks_by_race_sex": Recipe(**FIOE_PERSON, columns={"race": "race", "sex": "sex"},
                                          where={"was_frisked": "1"}),
        "fioe_report_bases_by_basis_circumstance": Recipe(
            "contacts", {"basis": "basis", "circumstance": "circumstance"}, once_per="fc_num"),
        "fioe_reports_by_neighbourhood_circumstance": Recipe(
            "contacts", {"neighbourhood": "city", "circumstance": "circumstance"}, once_per="fc_num"),
        "fioe_people_by_contacts_neighbourhood": "one row per person, never published: attacked by linking the "
                                                 "public files' rows instead (last column)",
    },
    "shootings": {"shootings_victims_by_district_type": Recipe(
        "victims", {"district": "district", "shooting_type": "shooting_type_v2"})},
}


def _norm(value: str) -> str:
    return " ".join(value.replace("/", " ").split()).casefold()


def to_category(value: str, categories: list[str], month: bool) -> str | None:
    """The outsider's guess of a raw value's category: equal, a word of it, or the catch-all."""
    if month:
        return value[:7] if value[:7] in categories else None
    raw = _norm(value)
    if not raw:
        return "Unknown" if "Unknown" in categories else next((c for c in CATCH_ALL if c in categories), None)
    for category in categories:
        if _norm(category) == raw:
            return category
    words = [c for c in categories if raw in _norm(c).split() or _norm(c) == raw.split()[-1]]
    if len(words) == 1:
        return words[0]
    return next((c for c in CATCH_ALL if c in categories), None)


def recount(pub: Published, name: str, recipe: Recipe) -> pd.Series | None:
    table = pub.tables[name]
    dims = [c for c in table.columns if c not in ("value", "lower", "upper", "status")]
    if recipe.base not in pub.files:
        return None
    rows = pub.files[recipe.base].copy()
    if recipe.parent:
        parent = pub.files[recipe.parent].drop_duplicates(recipe.key).set_index(recipe.key)
        for dim, column in recipe.columns.items():
            if column.startswith("parent."):
                rows[dim] = rows[recipe.key].map(parent[column.removeprefix("parent.")]).fillna("")
    for column, wanted in recipe.where.items():
        rows = rows[rows[column].str.strip() == wanted]
    cells = table[(table[dims] != ALL).all(axis=1)]
    for dim in dims:
        column = recipe.columns[dim]
        source = rows[dim] if column.startswith("parent.") else rows[column]
        categories = list(dict.fromkeys(cells[dim]))
        rows[f"_cat_{dim}"] = [to_category(v, categories, dim == "month") for v in source]
    rows = rows.dropna(subset=[f"_cat_{d}" for d in dims])
    if recipe.once_per:
        rows = rows.drop_duplicates([recipe.once_per, *[f"_cat_{d}" for d in dims]])
    counts = {}
    for _, cell in table.iterrows():
        mask = np.ones(len(rows), dtype=bool)
        for dim in dims:
            if cell[dim] != ALL:
                mask &= (rows[f"_cat_{dim}"] == cell[dim]).to_numpy()
        counts[_label(cell, dims)] = int(mask.sum())
    return pd.Series(counts)


def _label(row: pd.Series, dims: list[str]) -> str:
    return "|".join(str(row[d]) for d in dims)


def recount_attack(releases: list[Published]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for pub in releases:
        stats = out.setdefault(pub.dataset, {"protected_cells": 0, "protected_recomputed": 0,
                                             "summary_cells": 0, "summary_recomputed": 0, "why": []})
        for name, table in pub.tables.items():
            protection = pub.privacy.get(name, {}).get("protection", "unknown")
            kind = "summary" if protection == "summary" else "protected"
            recipe = RECIPES.get(pub.dataset, {}).get(name)
            stats[f"{kind}_cells"] = int(stats[f"{kind}_cells"]) + len(table)  # type: ignore[call-overload]
            if not isinstance(recipe, Recipe):
                if recipe:
                    stats["why"].append(f"{name}: {recipe}")  # type: ignore[union-attr]
                continue
            counts = recount(pub, name, recipe)
            if counts is None:
                continue
            dims = [c for c in table.columns if c not in ("value", "lower", "upper", "status")]
            shown = table["status"].isin(["exact", "noisy"])
            if kind == "protected":  # a protected cell the files give exactly: every recountable cell
                hit = len(table)
            else:
                hit = int(sum(str(counts[_label(r, dims)]) == r["value"] for _, r in table[shown].iterrows()))
            stats[f"{kind}_recomputed"] = int(stats[f"{kind}_recomputed"]) + hit  # type: ignore[call-overload]
    return out


# ---- 2. the LP attacker over every published year ----------------------------------------

VALUES = ("value", "lower", "upper", "status")
Truth = dict[tuple[str, int, str], dict[str, int]]  # (dataset, year, table) -> cell label -> true count


@dataclass
class LPFigure:
    """What the LP attacker got out of one dataset's releases."""

    hidden: int = 0      # suppressed cells, over every year's tables
    narrowed: int = 0    # of those, narrower than the declared protection (or with no proof)
    cells: list[str] = field(default_factory=list)  # each narrowed cell: release, table, cell, range
    unproven: int = 0    # of those narrowed, an LP that did not end optimal
    levels: int = 0      # hidden cells whose true count was known, so the levels were checked too


def _dims(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in VALUES]


def _protection(pub: Published, name: str) -> dict[str, object]:
    """The declared protection of a table (``privacy.json``: ``suppression``); 10 wide by default."""
    declared = pub.privacy.get(name, {}).get("suppression")
    return dict(declared) if isinstance(declared, dict) else {"protection_width": 10}


def _cell_groups(releases: list[Published]) -> dict[tuple[str, str, str], list[tuple[Published, str]]]:
    """Tables that count the same cells: a table (or its declared family) and what its cells
    describe: the data year, or, with a month dimension, the months themselves (a rolling window
    of one year's release repeats months of another's)."""
    groups: dict[tuple[str, str, str], list[tuple[Published, str]]] = {}
    for pub in releases:
        for name, table in pub.tables.items():
            family = str(_protection(pub, name).get("family") or name)
            period = "" if "month" in _dims(table) else str(pub.year)
            groups.setdefault((pub.dataset, family, period), []).append((pub, name))
    return groups


def _cell_vectors(members: list[tuple[Published, str]]) -> tuple[int, list[np.ndarray]]:
    """Each published row of the group's tables as the base cells it sums: base cells are the
    product of every dimension's categories (a row's ``All`` sums its own table's categories, a
    dimension a table lacks sums all of them)."""
    dims: list[str] = []
    cats: dict[str, list[str]] = {}
    for pub, name in members:
        table = pub.tables[name]
        for dim in _dims(table):
            known = cats.setdefault(dim, [])
            dims += [dim] if dim not in dims else []
            known += [v for v in dict.fromkeys(table[dim]) if v != ALL and v not in known]
    grid = np.arange(math.prod(len(cats[d]) for d in dims)).reshape([len(cats[d]) for d in dims])
    vectors = []
    for pub, name in members:
        table = pub.tables[name]
        own = {d: [cats[d].index(v) for v in dict.fromkeys(table[d]) if v != ALL] for d in _dims(table)}
        for _, row in table.iterrows():
            pick = [own[d] if d in own and row[d] == ALL else [cats[d].index(row[d])] if d in own
                    else list(range(len(cats[d]))) for d in dims]
            vectors.append(np.sort(grid[np.ix_(*pick)].reshape(-1)))
    return grid.size, vectors


def lp_attack(releases: list[Published], truth: Truth | None = None) -> dict[str, LPFigure]:
    """Per dataset: every suppressed cell of every year, with its min and max (scipy HiGHS) over
    every table that counts the same cells in every year (exact cells as equations, noisy cells as
    their intervals), the microdata recounted (``RECIPES``) as equations, and counts >= 0. A hidden
    cell is narrowed when its integer range (the LP's, rounded inwards) is narrower than the
    declared ``protection_width``, or, for a primary cell whose true count v (``truth``) is 1 to
    ``threshold``, misses v - min(v, lower_protection) or v + upper_protection; an LP that does not
    end optimal (unbounded above is room) proves nothing and counts as narrowed."""
    out: dict[str, LPFigure] = {}
    for (dataset, _, _), members in _cell_groups(releases).items():
        figure = out.setdefault(dataset, LPFigure())
        if not any((pub.tables[name]["status"] == "suppressed").any() for pub, name in members):
            continue
        size, vectors = _cell_vectors(members)
        a_eq, b_eq, a_ub, b_ub, targets = [], [], [], [], []
        rows = iter(vectors)
        for pub, name in members:
            table = pub.tables[name]
            recipe = RECIPES.get(pub.dataset, {}).get(name)
            micro = recount(pub, name, recipe) if isinstance(recipe, Recipe) else None
            for _, row in table.iterrows():
                vector = np.zeros(size)
                vector[next(rows)] = 1.0
                if row["status"] == "exact":
                    a_eq.append(vector)
                    b_eq.append(float(row["value"]))
                elif row["status"] == "noisy":
                    a_ub += [vector, -vector]
                    b_ub += [float(row["upper"]), -float(row["lower"])]
                elif row["status"] == "suppressed":
                    known = (truth or {}).get((pub.dataset, pub.year, name), {})
                    label = _label(row, _dims(table))
                    targets.append((vector, _protection(pub, name), known.get(label), f"{pub.year} {name} {label}"))
                if micro is not None:
                    a_eq.append(vector)
                    b_eq.append(float(micro[_label(row, _dims(table))]))
        ranges: dict[bytes, tuple[float, float] | None] = {}
        for vector, protection, value, where in targets:
            key = vector.tobytes()
            if key not in ranges:
                ranges[key] = _lp_range(vector, a_eq, b_eq, a_ub, b_ub)
            figure.hidden += 1
            span = ranges[key]
            if span is None:
                figure.unproven += 1
                figure.narrowed += 1
                figure.cells.append(f"{where}: no proof (an LP did not end optimal)")
                continue
            low, high = math.ceil(span[0] - 1e-6), math.floor(span[1] + 1e-6) if math.isfinite(span[1]) else math.inf
            narrow = high - low < int(protection.get("protection_width", 10))  # type: ignore[call-overload]
            threshold = int(protection.get("threshold", 0))  # type: ignore[call-overload]
            if value is not None:
                figure.levels += 1
                if 1 <= value <= threshold:
                    down = int(protection.get("lower_protection", threshold))  # type: ignore[call-overload]
                    up = int(protection.get("upper_protection", 0))  # type: ignore[call-overload]
                    narrow |= low > value - min(value, down) or high < value + up
            figure.narrowed += narrow
            if narrow:
                figure.cells.append(f"{where}: [{low}, {high}]" + (f", true {value}" if value is not None else ""))
    return out


def _lp_range(vector: np.ndarray, a_eq: list[np.ndarray], b_eq: list[float], a_ub: list[np.ndarray],
              b_ub: list[float]) -> tuple[float, float] | None:
    """(min, max) of the cell, the max inf when nothing bounds it; None when an LP is not optimal."""
    ends = []
    for sign in (1.0, -1.0):
        result = linprog(sign * vector, A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None,
                         A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None, bounds=(0, None),
                         method="highs")
        if result.status == 3 and sign < 0:
            ends.append(math.inf)
        elif result.status != 0:
            return None
        else:
            ends.append(sign * result.fun)
    return ends[0], ends[1]


# ---- the truth, from the raw export through the library ----------------------------------

def _table_frames(rules: Path, dataset: str, raw: Path, year: int,
                  tokenizer: Tokenizer) -> tuple[dict[str, pd.DataFrame], list[TableSpec]]:
    """The dataset's table frames (load, generalize, derive, as a build does) and its table specs."""
    from release.config.policy import load_policy
    from release.config.tables import load_tables_policy
    from release.datasets import DeriveContext, deriver
    from release.stages.generalize import generalize
    from release.stages.load import load_export

    policy = load_policy(rules / f"{dataset}.yaml")
    loaded = load_export(raw, policy, year)
    public, _, _ = generalize(loaded.tables, policy, frozenset(), tokenizer)
    derive = deriver(dataset)
    assert derive is not None
    frames = derive(DeriveContext(dataset, year, policy, loaded.tables, public, tokenizer)).table_frames
    return dict(frames), list(load_tables_policy(rules / str(policy.tables_file)).tables)


def _true_levels(frame: pd.DataFrame, spec: TableSpec,
                 year: int) -> tuple[TableCounts, list[tuple[int, ...]], np.ndarray]:
    """(the tabulated counts, the axes of each level, every level's true cells in table order)."""
    from release.stages.tabulate import kept_axes, level_values, tabulate

    counts = tabulate(frame, spec, year, np.random.default_rng(0))
    levels = [kept_axes(counts.dimensions, level) for level in spec.levels()]
    return counts, levels, np.concatenate([level_values(counts.counts, counts.shape, a) for a in levels])


# ---- 2c. a release that suppresses: shootings published as tables only --------------------

# The variant a department could choose: no victim-level file (a row per victim with its day,
# district and demographics is the riskier product), only a table of victims by district and
# month, the 24 months up to the year's end (a dashboard's rolling window: each release repeats
# the year before), counts of 1 to 3 hidden. The shipped shootings policy publishes the file and
# labels its table a summary of it; this copy changes only what the variant needs.
TABLES_ONLY = "shootings (tables only)"
TABLES_ONLY_YEARS = ("2019", "2020", "2019")  # the earlier year rebuilt once the later one is out
TABLES_ONLY_SEED = "20"                       # the synthetic export (``release sample``)
TABLES_ONLY_SUPPRESSION = {"threshold": 3, "protection_width": 4, "lower_protection": 3, "upper_protection": 3}


def tables_only_rules(rules: Path) -> Path:
    """``rules``: a copy of the shipped rules with the tables-only shootings policy."""
    shutil.copytree(ROOT / "redaction_rules", rules)
    policy = yaml.safe_load((rules / "shootings.yaml").read_text(encoding="utf-8"))
    policy["files"]["victims"].update(publish=False, years_before=1)  # the window's first year is counted
    (rules / "shootings.yaml").write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    privacy = yaml.safe_load((rules / "privacy.yaml").read_text(encoding="utf-8"))
    privacy["record_risk"].pop("shootings")  # no record-level file to measure
    (rules / "privacy.yaml").write_text(yaml.safe_dump(privacy, sort_keys=False), encoding="utf-8")
    shipped = yaml.safe_load((ROOT / "redaction_rules" / "shootings_tables.yaml").read_text(encoding="utf-8"))
    district = next(d for d in shipped["tables"][0]["dimensions"] if d["name"] == "district")
    tables = {
        "frames": {"victims": {"not_public": "no victim-level file is published: the table is the only view of "
                                             "the victims"}},
        "tables": [{
            "name": "shootings_victims_by_district_month",
            "description": "the number of shooting victims in that police district and month",
            "source": "victims", "dimensions": [district, {"name": "month", "kind": "month", "years_back": 1}],
            "privacy_unit": "unit_id", "privacy_unit_name": "person", "max_rows_per_unit": 1,
            "max_cells_per_unit": 1, "mechanism": "exact", "family": "shootings_victims_by_month",
            "suppression": TABLES_ONLY_SUPPRESSION, "margins": [["district"], ["month"], []]}]}
    (rules / "shootings_tables.yaml").write_text(yaml.safe_dump(tables, sort_keys=False), encoding="utf-8")
    return rules


def true_cells(rules: Path, raw: Path, dataset: str, years: set[int]) -> Truth:
    """Every cell of the dataset's tables, counted from the raw export through the library (load,
    derive, tabulate: no suppression): the truth the protection levels are judged against."""
    from release.keys.hmac import Tokenizer
    from release.stages.tabulate import level_labels

    out: Truth = {}
    for year in sorted(years):
        frames, specs = _table_frames(rules, dataset, raw, year, Tokenizer(os.urandom(32)))
        for spec in specs:
            names = tuple(d.name for d in spec.dimensions)
            categories = tuple(d.codebook(year) for d in spec.dimensions)
            _, levels, values = _true_levels(frames[spec.source], spec, year)
            labels = pd.concat([level_labels(names, categories, axes) for axes in levels], ignore_index=True)
            out[(dataset, year, spec.name)] = {_label(row, list(names)): int(v)
                                               for (_, row), v in zip(labels.iterrows(), values, strict=True)}
    return out


def tables_only_scenario(env: dict[str, str], work: Path) -> tuple[list[Published], Truth]:
    """Build the tables-only shootings releases (2019, 2020, then 2019 again) from one synthetic
    export into one releases folder; every build must be a draft."""
    rules = tables_only_rules(work / "rules-tables-only")
    raw = work / "raw-shootings"
    release(env, "sample", "shootings", TABLES_ONLY_YEARS[1], "--out", str(raw), "--seed", TABLES_ONLY_SEED)
    out = work / "releases-tables-only"
    for year in TABLES_ONLY_YEARS:
        result = release(env, "shootings", year, "--input", str(raw), "--rules", str(rules), "--out", str(out))
        print(f"built {TABLES_ONLY} {year}: {result.get('status')}", flush=True)
    return read_releases(out), true_cells(rules, raw, "shootings", {int(y) for y in TABLES_ONLY_YEARS})


# ---- 2b. the linkage attacker on the person-level protected table ------------------------

# Columns that never link: the report key and a row's place in its report, and the narrative (no
# two reports share one whole). The attacker compares every OTHER published column of the persons
# file and of the row of the contacts file that gives their report ("c." below), whatever it is
# called, and the date-time also by hour of day ("hour").
NOT_LINKING = {"persons": {"fc_num", "person_in_report"}, "contacts": {"fc_num", "row_in_report", "contact_reason"}}
FEW = 5  # a class of fewer people that holds two or more of one person's reports exposes the person


def linked_rows(pub: Published) -> pd.DataFrame | None:
    """The persons file with its report's contacts columns (a report's distinct values, joined)."""
    persons, contacts = pub.files.get("persons"), pub.files.get("contacts")
    if persons is None or contacts is None:
        return None
    report = contacts[[c for c in contacts.columns if c not in NOT_LINKING["contacts"] or c == "fc_num"]]
    report = report.groupby("fc_num").agg(lambda values: "|".join(sorted(set(values))))
    rows = persons.join(report.add_prefix("c."), on="fc_num")
    if "contact_date" in rows.columns:
        rows["hour"] = rows["contact_date"].astype(str).str.slice(11, 13)
    return rows


def true_people(persons: pd.DataFrame, key: bytes) -> list[str]:
    """Each public persons row's person, from the raw sample through the library (as ``margin_bias``
    does): the build's person key (a keyed surname and date of birth, or person_id), matched on the
    report's public pseudonym and the person's place in it. A row without a person key is a person
    of its own."""
    from release.config.policy import load_policy
    from release.datasets.fioe import person_keys
    from release.keys.hmac import derive_keys
    from release.stages.juvenile import public_report_key
    from release.stages.load import load_export

    tokens = derive_keys(key, "fioe", 2020).tokens  # the build's keys (RELEASE_HMAC_KEY as given)
    raw = load_export(SAMPLES / "fioe" / "2020", load_policy(ROOT / "redaction_rules" / "fioe.yaml"), 2020)
    rows = raw.tables["persons"]
    where = pd.DataFrame({"fc_num": [public_report_key(f, "fioe", tokens) for f in rows["fc_num"]],
                          "person": person_keys(rows, tokens).tolist()})
    where["person_in_report"] = (where.groupby("fc_num").cumcount() + 1).astype(str)
    matched = persons[["fc_num", "person_in_report"]].merge(where, how="left", on=["fc_num", "person_in_report"])
    return [p if isinstance(p, str) else f"row {i}" for i, p in enumerate(matched["person"])]


def linkage_attack(releases: list[Published], key: bytes) -> dict[str, tuple[int, int]]:
    """Per dataset: (people exposed, people seen in two or more reports): exposed when, for a pair of
    a person's rows in two reports (the first 50), the rows alike on every column the two agree on
    hold fewer than ``FEW`` people (pairwise maximal agreement; the narrative is not modelled here)."""
    out: dict[str, tuple[int, int]] = {}
    for pub in releases:
        rows = linked_rows(pub) if pub.dataset == "fioe" else None
        if rows is None:
            continue
        people = pd.Series(true_people(rows, key), index=rows.index)
        values = rows[[c for c in rows.columns if c not in NOT_LINKING["persons"]]].astype(str)
        reports: dict[str, list[int]] = {}
        for row, person in enumerate(people):
            reports.setdefault(person, []).append(row)
        exposed: set[str] = set()
        seen_twice = 0
        for person, own in reports.items():
            pairs = [(i, j) for i, j in combinations(own, 2) if rows["fc_num"].iat[i] != rows["fc_num"].iat[j]][:50]
            seen_twice += bool(pairs)
            for i, j in pairs:
                agree = values.columns[values.iloc[i].to_numpy() == values.iloc[j].to_numpy()]
                alike = (values[agree] == values.iloc[i][agree]).all(axis=1)
                if people[alike].nunique() < FEW:
                    exposed.add(person)
                    break
        out[pub.dataset] = (len(exposed), seen_twice)
    return out


# ---- building, rebuilding and reading the ledger ----------------------------------------

def release(env: dict[str, str], *args: str) -> dict[str, object]:
    done = subprocess.run([RELEASE, *args, "--json"], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 5, 6):
        raise SystemExit(f"release {' '.join(args)} failed ({done.returncode}): {done.stderr[-500:]}")
    return json.loads(done.stdout) if done.stdout.strip() else {}


def ledger_rho(env: dict[str, str], dataset: str, out: Path) -> float:
    report = release(env, "budget", dataset, "--out", str(out))
    return float(sum(y["rho"] for y in report.get("years", [])))  # type: ignore[union-attr, misc]


def rebuild_experiment(env: dict[str, str], dataset: str, raw: Path, out: Path, rebuilds: int,
                       change: Callable[[Path, int], None]) -> tuple[float, float, float]:
    """rho on the ledger after one build, after ``rebuilds`` more on the same data and after
    ``rebuilds`` more that each change the data; a build that is not a plain draft is reported."""
    year = "2020"

    def build(what: str) -> None:
        status = release(env, dataset, year, "--input", str(raw), "--out", str(out)).get("status")
        if status != "draft":
            print(f"  {dataset} {what}: status {status}", flush=True)

    build("first build")
    first = ledger_rho(env, dataset, out)
    for k in range(rebuilds):
        build(f"same-data rebuild {k + 1}")
    same = ledger_rho(env, dataset, out)
    for k in range(rebuilds):
        change(raw, k)
        build(f"changed-data rebuild {k + 1}")
    return first, same, ledger_rho(env, dataset, out)


def _edit_csv(path: Path, edit: Callable[[list[dict[str, str]]], None]) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows, columns = list(reader), list(reader.fieldnames or [])
    edit(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def change_fioe(raw: Path, k: int) -> None:
    """Move the k-th report to another neighbourhood: the people-by-stops table's counts change."""
    places = ["DORCHESTER", "ROXBURY", "MATTAPAN", "HYDE PARK"]

    def edit(rows: list[dict[str, str]]) -> None:
        first = rows[3 * k]["fc_num"]
        for row in rows:
            if row["fc_num"] == first:
                row["city"] = places[(places.index(row["city"]) + 1) % 4] if row["city"] in places else places[k % 4]
    _edit_csv(raw / "fieldcontact.csv", edit)


def change_youthconnect(raw: Path, k: int) -> None:
    """One more youth referred in one month of the release year."""
    def edit(rows: list[dict[str, str]]) -> None:
        row = [r for r in rows if r["month"].startswith("2020")][k % 12]
        row["youth_referred"] = str(int(row["youth_referred"]) + 1)
    _edit_csv(raw / "youthconnect_referral_totals.csv", edit)


# ---- 4. margin bias, 5. uniqueness --------------------------------------------------------

def margin_bias(draws: int, key: bytes) -> dict[str, tuple[float, float, float]]:
    """The largest |mean(published - true)| over margin cells, over margin cells at least 3 SDs from
    zero, and over grand totals, in noise SDs of that margin's estimate. (A margin whose true count
    is near zero is biased up by the floor at zero whatever the method; the old one-shot rounding
    moved the grand total itself.)"""
    from release.keys.hmac import Tokenizer
    from release.stages import noise
    from release.stages.postprocess import postprocess, variance_factor

    out = {}
    for dataset in ("fioe", "youthconnect"):
        frames, specs = _table_frames(ROOT / "redaction_rules", dataset, SAMPLES / dataset / "2020", 2020,
                                      Tokenizer(key))
        worst, clear, total = 0.0, 0.0, 0.0
        for spec in specs:
            if not spec.is_noisy or not spec.margins or spec.per_year:
                continue
            counts, levels, truth = _true_levels(frames[spec.source], spec, 2020)
            bounds = noise.sensitivity(counts.shape, levels, max_rows_per_unit=spec.max_rows_per_unit,
                                       max_cells_per_unit=spec.max_cells_per_unit,
                                       max_rows_per_cell=spec.rows_per_cell, units_may_merge=spec.units_may_merge)
            errors = []
            for _ in range(draws):
                released = noise.release_noisy(truth, table=spec.name, mechanism="discrete_gaussian",
                                               budget=float(spec.rho or 0), bounds=bounds)
                processed = postprocess(released.values, counts.shape, levels, "discrete_gaussian", released.scale)
                errors.append(np.concatenate([lv.value for lv in processed.levels]) - truth)
            mean = np.mean(errors, axis=0)
            offset = 0
            for axes in levels:
                size = int(np.prod([counts.shape[i] for i in axes]))
                if axes != levels[0]:
                    sd = released.scale * math.sqrt(variance_factor(counts.shape, levels, axes))
                    bias = np.abs(mean[offset:offset + size]) / sd
                    worst = max(worst, float(np.max(bias)))
                    away = truth[offset:offset + size] >= 3 * sd
                    clear = max(clear, float(np.max(bias[away]))) if away.any() else clear
                    total = max(total, float(bias[0])) if axes == () else total
                offset += size
        out[dataset] = (worst, clear, total)
    return out


def uniqueness(releases: list[Published]) -> dict[str, float]:
    out = {}
    for pub in releases:
        if pub.dataset in QUASI and QUASI[pub.dataset][0] in pub.files:
            file, columns = QUASI[pub.dataset]
            combos = pub.files[file][list(columns)].astype(str).agg("\x1f".join, axis=1)
            out[pub.dataset] = float((combos.map(combos.value_counts()) == 1).mean())
    return out


def repeats(releases: list[Published]) -> dict[str, tuple[int, int]]:
    """(cells of dated tables published by more than one release, those with differing values). A
    row summed over every month is left out: each release sums its own window."""
    seen: dict[tuple[str, str, str], list[str]] = {}
    for pub in releases:
        for name, table in pub.tables.items():
            if "month" not in table.columns:
                continue
            for _, row in table[table["month"] != ALL].iterrows():
                seen.setdefault((pub.dataset, name, _label(row, _dims(table))), []).append(row["value"])
    out: dict[str, tuple[int, int]] = {}
    for (dataset, _, _), values in seen.items():
        if len(values) > 1:
            shared, differing = out.get(dataset, (0, 0))
            out[dataset] = (shared + 1, differing + (len(set(values)) > 1))
    return out


# ---- the table ----------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuilds", type=int, default=10)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build here (and keep it) instead of a temporary folder")
    parser.add_argument("--lp-only", action="store_true",
                        help="only the tables-only shootings releases and the LP attacker (about a minute)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-attacks-"))
    work.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32).hex().encode()
    # the ledger is the one the privacy policy names (~/.local/share/...): a home per experiment
    env = {**{k: v for k, v in os.environ.items() if k != "RELEASE_LEDGER"}, "RELEASE_HMAC_KEY": key.decode(),
           "HOME": str(work / "home")}
    suppressing, truth = tables_only_scenario({**env, "HOME": str(work / "home-tables-only")}, work)
    narrowed = lp_attack(suppressing, truth)
    if args.lp_only:
        _print_table(args, {TABLES_ONLY: _tables_only_row(suppressing, narrowed)})
        _print_lp_notes(narrowed.get("shootings"))
        return _done(work, args.keep)
    out = work / "releases"
    for dataset, years in (("fioe", ["2020"]), ("shootings", ["2020"]), ("youthconnect", ["2019", "2020"])):
        for year in years:
            result = release(env, dataset, year, "--input", str(SAMPLES / dataset / "2020"), "--out", str(out))
            print(f"built {dataset} {year}: {result.get('status')}", flush=True)
    releases = read_releases(out)
    recounted = recount_attack(releases)
    bundled = lp_attack(releases)
    rho = {}
    for dataset, change in (("fioe", change_fioe), ("youthconnect", change_youthconnect)):
        raw = work / f"raw-{dataset}"
        shutil.rmtree(raw, ignore_errors=True)
        if dataset == "fioe":
            from release.synth.fioe import generate_fioe, write_fioe
            write_fioe(generate_fioe(2020, seed=12, n_reports=300), raw)
        else:
            shutil.copytree(SAMPLES / dataset / "2020", raw)
        own = {**env, "HOME": str(work / f"home-{dataset}")}
        rho[dataset] = rebuild_experiment(own, dataset, raw, work / f"rebuilds-{dataset}", args.rebuilds, change)
        print(f"rebuilt {dataset} {2 * args.rebuilds} times", flush=True)
    linked = linkage_attack(releases, key)
    bias = margin_bias(args.draws, key)
    unique = uniqueness(releases)
    repeated = repeats(releases)
    rows: dict[str, dict[str, str]] = {}
    for dataset in ("fioe", "shootings", "youthconnect"):
        r = recounted.get(dataset, {})
        shared, differing = repeated.get(dataset, (0, 0))
        rows[dataset] = {
            "recount": f"{r.get('protected_recomputed', 0)} of {r.get('protected_cells', 0)}",
            "summary": f"{r.get('summary_recomputed', 0)} of {r.get('summary_cells', 0)}",
            "lp": _lp_cell(bundled.get(dataset)),
            "rho": " | ".join(f"{x:.3f}" for x in rho[dataset]) if dataset in rho else "- | - | -",
            "bias": " / ".join(f"{x:.2f}" for x in bias[dataset]) if dataset in bias else "-",
            "repeats": f"{differing} of {shared}",
            "unique": f"{unique[dataset]:.1%}" if dataset in unique else "-",
            "linked": f"{linked[dataset][0]} of {linked[dataset][1]}" if dataset in linked else "-"}
    rows[TABLES_ONLY] = _tables_only_row(suppressing, narrowed)
    _print_table(args, rows)
    print(f"\n  margin bias is a mean of {args.draws} draws: about {1 / math.sqrt(args.draws):.2f} SD of it is chance;"
          " '-' is not measured (shootings publishes no protected table, so nothing is charged)")
    _print_lp_notes(narrowed.get("shootings"))
    for dataset, stats in recounted.items():
        for why in stats.get("why", []):  # type: ignore[union-attr]
            print(f"  {dataset}: not recountable: {why}")
    return _done(work, args.keep)


def _tables_only_row(releases: list[Published], narrowed: dict[str, LPFigure]) -> dict[str, str]:
    shared, differing = repeats(releases).get("shootings", (0, 0))
    return {"lp": _lp_cell(narrowed.get("shootings")), "repeats": f"{differing} of {shared}"}


def _lp_cell(figure: LPFigure | None) -> str:
    figure = figure or LPFigure()
    return f"{figure.narrowed} of {figure.hidden}"


def _print_table(args: argparse.Namespace, rows: dict[str, dict[str, str]]) -> None:
    columns = (("recount", "protected cells recomputable"), ("summary", "summary cells recounted"),
               ("lp", "LP over every year: suppressed cells narrowed"),
               ("rho", f"rho after 1 build | after {args.rebuilds} same-data rebuilds | after {args.rebuilds} changed"),
               ("bias", "margin bias in noise SDs: largest / >= 3 SD from 0 / grand total"),
               ("repeats", "dated cells published twice: with different values"),
               ("unique", "rows unique on published QIs"),
               ("linked", "people exposed by linking the microdata, of people in 2+ reports"))
    header = ["dataset", *(title for _, title in columns)]
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * (len(header) + 2))
    for dataset, cells in rows.items():
        print(f"| {dataset} | " + " | ".join(cells.get(key, "- | - | -" if key == "rho" else "-")
                                           for key, _ in columns) + " |")


def _print_lp_notes(figure: LPFigure | None) -> None:
    figure = figure or LPFigure()
    print(f"  {TABLES_ONLY}: releases {', '.join(TABLES_ONLY_YEARS)} (the last a rebuild once the later year was "
          f"out); {figure.hidden} suppressed cells, {figure.levels} judged on their protection levels too (true "
          f"counts from the raw export), {figure.unproven} with an LP that did not end optimal")
    for cell in figure.cells:
        print(f"  narrowed: {cell}")


def _done(work: Path, keep: Path | None) -> int:
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
