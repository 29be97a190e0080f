"""The packet's evidence tables: residual risk, expectations, changes and provenance.

Each helper turns public files, sanitized validation results or manifest fields into rows
of counts, names and hashes for one section of the review packet; none of them sees a
removed value. ``collect_facts`` (``release.review.facts``) calls them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pandas as pd

from release.bundle.log import read_trailer
from release.bundle.manifest_recorded import Recorded
from release.review.inputs import PreviousRelease, _pattern, _privacy, _rules

# At the precision published: the date column as it is in the file (date and hour for FIOE), never
# rounded to the month first (that understated uniqueness: issue #12). The policy's own checks
# (``record_risk`` in privacy.yaml, with a verdict) come from the manifest.
QUASI_IDENTIFIERS = (("date", "zip", "sex", "race", "age"), ("date", "city", "sex", "race", "age"))

Rows = list[tuple[object, ...]]


def _published(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _risk(data: Mapping[str, pd.DataFrame]) -> Rows:
    """Equivalence classes on quasi-identifiers in each persons-like public file."""
    rows: Rows = []
    for relpath, frame in sorted(data.items()):
        if not {"sex", "race", "age"} <= set(frame.columns) or frame.empty:
            continue
        view = pd.DataFrame({c: frame[c] for c in ("sex", "race", "age")})
        for other in data.values():
            links = [c for c in frame.columns if c in other.columns and c.endswith(("_num", "_id", "key"))]
            if other is not frame and links:
                first = other.drop_duplicates(links[0]).set_index(links[0])
                for place in ("zip", "city"):
                    if place in first.columns:
                        view[place] = frame[links[0]].map(first[place])
                dates = [c for c in first.columns if "date" in c]
                if dates:
                    view["date"] = frame[links[0]].map(first[dates[0]]).map(_published)
        own_dates = [c for c in frame.columns if "date" in c]
        if own_dates:
            view["date"] = frame[own_dates[0]].map(_published)
        for columns in QUASI_IDENTIFIERS:
            if set(columns) <= set(view.columns):
                sizes = view[list(columns)].fillna("(blank)").value_counts()
                unique = int((sizes == 1).sum())
                rows.append((relpath.removeprefix("public/"), ", ".join(columns), len(view), len(sizes), unique,
                             f"{unique / len(view):.1%}", int(sizes[sizes < 5].sum()), int(sizes.min())))
    return rows


def _expectations(validation: Mapping[str, str]) -> Rows:
    rows: Rows = []
    for name, text in sorted(validation.items()):
        try:
            results = json.loads(text)
        except json.JSONDecodeError:
            rows.append((name, "", "unreadable results file", "", "", "", "", ""))
            continue
        for r in results if isinstance(results, list) else []:
            if isinstance(r, dict):
                rows.append((r.get("suite", ""), r.get("table", ""), r.get("expectation", ""), r.get("column") or "",
                             r.get("level", ""), "pass" if r.get("success") else "FAIL",
                             r.get("unexpected_count", ""), r.get("element_count", "")))
    return rows


def _changes(data_rows: Mapping[str, int], data_columns: Mapping[str, tuple[str, ...]], year: str,
             manifest: Mapping[str, object], previous: PreviousRelease) -> tuple[Rows, Rows, int]:
    now_rows = {_pattern(k, year): v for k, v in data_rows.items()}
    now_columns = {_pattern(k, year): v for k, v in data_columns.items()}
    changes: Rows = []
    for name in sorted(set(now_rows) | set(previous.rows)):
        then_cols, now_cols = previous.columns.get(name, ()), now_columns.get(name, ())
        changes.append((name, previous.rows.get(name, "absent"), now_rows.get(name, "absent"),
                        ", ".join(c for c in now_cols if c not in then_cols) or "-",
                        ", ".join(c for c in then_cols if c not in now_cols) or "-"))
    privacy_now = _privacy(manifest)
    budget: Rows = [(k, previous.privacy.get(k, "-"), privacy_now.get(k, "-"))
                    for k in sorted(set(previous.privacy) | set(privacy_now))]
    rules_now = _rules(manifest)
    changed = sum(1 for k in set(rules_now) | set(previous.rules) if rules_now.get(k) != previous.rules.get(k))
    return changes, budget, changed


def _provenance(manifest: Mapping[str, object], lines: Sequence[str]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    recorded = Recorded.of(manifest)
    for f in recorded.input_files:
        items.append((f"input {f.get('name')}", f"sha256 {f.get('sha256')}, {f.get('rows')} rows"))
    for path, digest in sorted(_rules(manifest).items()):
        items.append((f"rule file {path}", f"sha256 {digest}"))
    components = recorded.components
    for name, version in sorted(components.items()) if components is not None else []:
        items.append((f"component {name}", str(version)))
    items.append(("HMAC key id", recorded.shown("hmac_key_id", "-")))
    trailer = read_trailer(lines)
    head = trailer.get("head") if trailer is not None else None
    items.append(("redaction log head", str(head) if head else "no trailer"))
    return items
