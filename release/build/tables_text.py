"""The plain-language privacy lines of each table, as the manifest, the packet and
``public/privacy.json`` state them.

They say exactly what holds and nothing more: a summary restates a public file and claims
nothing; a noisy table states its unit, budget and noise, and whether the per-unit bound is
enforced by our code or only declared by a partner (then the guarantee is conditional on
it); an exact table states what its suppression protects against. Nothing here is an exact
count of the data (rows dropped by bounding are exact, so they stay in the findings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from release.config.tables import FrameSpec, TableSpec
from release.privacy.ledger import epsilon_from_rho

if TYPE_CHECKING:
    from release.build.tables_noisy import NoisyTable

POST_PROCESSING = ("least squares over the cells and margins, then top-down: each level's values are "
                   "the non-negative solution closest to its estimate that adds up to the level above, "
                   "rounded to integers that still add up (controlled rounding)")


def summary_summary(spec: TableSpec, model: Mapping[str, FrameSpec] | None) -> dict[str, object]:
    frame = model.get(spec.source) if model is not None else None
    source = frame.recount_from if frame is not None and frame.recount_from else "the public record-level file"
    return {
        "table": spec.name, "mechanism": "summary", "protection": "summary", "privacy_unit": None,
        "rho": 0.0, "epsilon": None, "summary_of": source,
        "meaning": (f"Each number is {spec.description}, counted exactly from the published {source} file. "
                    "It is a summary of that file: anyone can recount it from the file's rows, so it "
                    "carries no differential-privacy or suppression claim and spends no privacy budget."),
        "interval": "counts are exact (lower = upper = value).",
        "privacy": "none beyond the record-level file's own protection: no budget is spent.",
    }


def noisy_claim(spec: TableSpec, delta: float) -> dict[str, object]:
    """What a noisy table's entry states that its declaration and delta alone decide: approve,
    publish, the audit and ``verify`` hold a published entry to the trusted policy's
    (``release.audit.trusted_statement``)."""
    unit = str(spec.privacy_unit_name)
    budget = (f"rho = {spec.rho:g} (zero-concentrated DP)" if spec.mechanism == "discrete_gaussian"
              else f"epsilon = {spec.epsilon:g} (pure DP, rho = {spec.rho_spent:g})")
    epsilon = epsilon_from_rho(spec.rho_spent, delta)
    bound = (f"at most {spec.max_rows_per_unit} rows in at most {spec.max_cells_per_unit} cells")
    per_year = (f" Each calendar year is measured once and stored; this table re-uses the stored "
                f"measurement of every year an earlier release already measured, so the {spec.per_year.years} "
                "years it covers cost one measurement each, ever." if spec.per_year else "")
    merge = (f" A {unit} is every record that keyed identifiers join (a name and date of birth, or the record "
             "system's person id): it may join two people but never splits one they join, so the noise is "
             "calibrated to one person changing a unit's rows."
             if spec.units_may_merge else "")
    return {
        "mechanism": spec.mechanism, "protection": "differential privacy", "privacy_unit": unit,
        "rho": spec.rho_spent, "epsilon": spec.epsilon, "delta": delta, "epsilon_at_delta": epsilon,
        "bounds": spec.bounds, "post_processing": POST_PROCESSING,
        "privacy": (f"Each measurement spends {budget} per {unit}, which implies epsilon = {epsilon:.3g} at "
                    f"delta = {delta:g} (OpenDP's conversion)."
                    + (f" The guarantee is conditional on the partner's declared bound: a {unit} adds {bound}. "
                       "The partner sends counts, not people, so the bound cannot be checked here."
                       if spec.bounds == "declared" else f" Each {unit} counts {bound}; any rows beyond that were "
                                                         "left out before counting.")
                    + per_year + merge),
    }


def noisy_summary(spec: TableSpec, noisy: NoisyTable, frame: pd.DataFrame, delta: float) -> dict[str, object]:
    widths = (frame["upper"] - frame["lower"]).astype(float)
    claim = noisy_claim(spec, delta)
    kind = "discrete Gaussian" if spec.mechanism == "discrete_gaussian" else "discrete Laplace"
    first = ("mechanism", "protection", "privacy_unit", "rho", "epsilon", "delta", "epsilon_at_delta")
    return {
        "table": spec.name, **{k: claim[k] for k in first}, "noise_scale": noisy.scale,
        "measurements": len(noisy.measurements),
        "measurements_reused": sum(1 for m in noisy.measurements if m.get("reused")),
        "cells": int(len(noisy.processed.levels[0].value)), "median_interval_width": float(widths.median()),
        "bounds": claim["bounds"], "post_processing": POST_PROCESSING,
        "meaning": (f"Each number is {spec.description}, plus random {kind} noise (scale "
                    f"{noisy.scale:.3g}) so that the presence or absence of any single {claim['privacy_unit']} "
                    "changes the chance of any output only within the stated budget. Values are then made "
                    "non-negative, consistent and whole (" + POST_PROCESSING + "); margins stay within their "
                    "intervals."),
        "interval": ("lower and upper bound a 95% interval for the true count; half of the intervals "
                     f"in this table are at most {widths.median():g} wide."),
        "privacy": claim["privacy"],
    }


def exact_summary(spec: TableSpec, frame: pd.DataFrame) -> dict[str, object]:
    rules = spec.suppression_rules
    hidden = int((frame["status"] == "suppressed").sum())
    return {
        "table": spec.name, "mechanism": "exact", "protection": "cell suppression",
        "privacy_unit": spec.privacy_unit_name, "rho": 0.0, "epsilon": None, "cells_suppressed": hidden,
        "suppression": {"family": spec.cell_family, "threshold": rules.threshold,
                        "protection_width": rules.protection_width, "lower_protection": rules.lower,
                        "upper_protection": rules.upper},
        "meaning": (f"Each number is {spec.description}, exactly (no noise; not covered by the "
                    f"differential-privacy guarantee). Counts from 1 to {rules.threshold} are hidden, and other "
                    "cells are hidden with them so that, from this table, the linked tables, every other year's "
                    "release and the public record-level files, none of those small counts can be narrowed to "
                    f"within {rules.lower} below (or zero) or {rules.upper} above its value; {hidden} cells are "
                    "hidden in all. Knowledge from outside these releases is not covered."),
        "interval": (f"published counts are exact (lower = upper = value); each hidden count stays uncertain "
                     f"over a range at least {rules.protection_width} wide."),
        "privacy": "no privacy budget is spent; protection rests on suppression only.",
    }
