"""The public privacy statement: ``public/privacy.json`` and its plain-language twin ``public/privacy.md``.

What the public and auditors are told, and nothing more than holds: per table, how it is
protected (a summary of a public file claims nothing; a noisy table states its mechanism, unit,
ρ and OpenDP's ε at δ, the noise scale σ, the post-processing, and whether its per-unit bound is
enforced or a partner's declaration; an exact table states its suppression), the privacy unit's
cap over every release of every dataset that can hold the same person, what is exact and why,
and the measured re-identification risk of each record-level file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from release.privacy.ledger import epsilon_from_rho

EXACT = ("Summary tables are exact: they restate the published record-level files, which anyone can count, so "
         "adding noise or hiding cells would protect no one. Noisy tables are not exact: every number carries "
         "random noise and is published with a 95% interval. Exact tables with suppression publish exact counts "
         "except the hidden ones. Record-level files are protected by redaction, generalization and the risk "
         "checks below, not by differential privacy.")


def statement(dataset: str, year: int, privacy: Mapping[str, Any], record_risk: Sequence[Mapping[str, Any]],
              units: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    delta = float(privacy.get("delta") or 1e-9)
    tables = []
    for table in privacy.get("tables", []) or []:
        entry = {k: table.get(k) for k in ("table", "protection", "mechanism", "privacy_unit", "rho", "epsilon",
                                           "delta", "epsilon_at_delta", "noise_scale", "bounds", "post_processing",
                                           "summary_of", "cells_suppressed", "suppression", "meaning", "interval", "privacy")
                 if table.get(k) is not None}
        entry["exact"] = table.get("mechanism") in ("summary", "exact")
        tables.append(entry)
    caps = privacy.get("rho_cap") or {}
    used = privacy.get("rho_spent") or {}
    return {
        "dataset": dataset, "year": year,
        "differential_privacy": {
            "definition": "zero-concentrated differential privacy (rho), OpenDP integer mechanisms; epsilon at "
                          "delta from OpenDP's make_zCDP_to_approxDP",
            "delta": delta,
            "units": {unit: {"who": units.get(unit, {}).get("description"),
                             "datasets_that_can_hold_the_same_person": list(units.get(unit, {}).get("datasets", [])),
                             "cap_rho_over_every_release": caps.get(unit),
                             "cap_epsilon_at_delta": epsilon_from_rho(float(caps[unit]), delta) if unit in caps else None,
                             "rho_of_this_release": used.get(unit, 0.0)}
                      for unit in sorted(set(caps) | set(used))},
            "ledger_id": privacy.get("ledger_id"),
        },
        "tables": tables,
        "what_is_exact": EXACT,
        "record_level_risk": [dict(r) for r in record_risk],
    }


def plain_text(document: Mapping[str, Any]) -> str:
    """The same statement for people: one paragraph per table and per file."""
    lines = [f"# Privacy statement: {document['dataset']} {document['year']}", "", document["what_is_exact"], ""]
    dp = document["differential_privacy"]
    for unit, info in dp["units"].items():
        cap = info["cap_rho_over_every_release"]
        limit = (f"may use at most rho {cap} (epsilon {info['cap_epsilon_at_delta']:.3g} at delta {dp['delta']:g})"
                 if cap is not None else "are limited by the cap on the privacy ledger")
        lines.append(f"Privacy unit '{unit}' ({info['who']}): this release's noisy tables use rho "
                     f"{info['rho_of_this_release']:.3g}; every release of "
                     f"{', '.join(info['datasets_that_can_hold_the_same_person'])} together {limit}, "
                     "recorded on an append-only privacy ledger.")
        lines.append("")
    for table in document["tables"]:
        lines += [f"## {table['table']} ({table['protection']})", "", str(table.get("meaning", "")), "",
                  str(table.get("interval", "")), "", str(table.get("privacy", "")), ""]
    for risk in document["record_level_risk"]:
        lines.append(f"Record-level file {risk['file']}: {str(risk['verdict']).upper()}, "
                     f"{float(risk['unique_share']):.1%} of its rows are unique on "
                     f"({', '.join(risk['quasi_identifiers'])}) as published; {float(risk['under_k_share']):.1%} "
                     f"are in groups smaller than {risk['k']}.")
    return "\n".join(lines).rstrip() + "\n"


def files(dataset: str, year: int, privacy: Mapping[str, Any], record_risk: Sequence[Mapping[str, Any]],
          units: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``privacy.json`` and ``privacy.md``, relative to ``public/``. Made from the manifest's sections
    with their keys sorted, as ``manifest.json`` writes them: the build (from its own dicts) and every
    check (from the file) write the same bytes."""
    privacy, record_risk = json.loads(json.dumps([privacy, record_risk], sort_keys=True))
    document = statement(dataset, year, privacy, record_risk, units)
    return {"privacy.json": json.dumps(document, indent=2, ensure_ascii=False) + "\n",
            "privacy.md": plain_text(document)}
