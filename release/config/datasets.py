"""The one registry of datasets: each dataset's name, the tables its expectation suites check (by
policy: a dataset whose exports came from several record systems has a policy for each generation,
``release.datasets.generations``), the module of its derive steps and ``dataset_rules`` model, and the
module of its synthetic generator.

Before, the names and tables were kept by hand in three places (the command line's dataset list,
the suites' table list and the generators' list). The modules are named here, not imported:
configuration sits below the stages, the dataset modules and the generators
(``tests/test_architecture.py``), and ``tests/config/test_datasets_registry.py`` checks that every
name resolves and that each dataset's generator and suites agree with this registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One dataset: its policies' suite tables, its derive module and its synthetic generator's module."""

    name: str
    suite_tables: Mapping[str, tuple[str, ...]]  # policy name -> the tables its two suites check
    derive: str | None  # ``release.datasets.<name>``: derive(), NOTES, DERIVED_FILES; None: the policy suffices
    generator: str  # the ``release.synth`` module that writes a synthetic raw export of it


def _one(name: str, *tables: str) -> Dataset:
    return Dataset(name, {name: tables}, f"release.datasets.{name}", f"release.synth.{name}")


REGISTRY: tuple[Dataset, ...] = (
    Dataset("fioe", {"fioe": ("contacts", "persons"),
                     "fioe_rms": ("contacts", "persons"),  # a generation's policy (release.datasets.generations)
                     "fioe_legacy": ("persons",)},
            "release.datasets.fioe", "release.synth.fioe"),
    _one("shootings", "victims"),
    _one("shots_fired", "incidents"),
    _one("firearms", "firearms", "daily_counts"),
    _one("homicide_clearance", "homicides", "annual_clearance"),
    _one("in_custody_deaths", "deaths", "annual_deaths"),
    _one("best", "monthly"),
    _one("youthconnect", "referrals", "referral_totals", "demographics"),
)
DATASETS: tuple[str, ...] = tuple(d.name for d in REGISTRY)
BY_NAME: Mapping[str, Dataset] = {d.name: d for d in REGISTRY}
# the tables of each policy's suites, for suites read without the tables at hand
SUITE_TABLES: Mapping[str, tuple[str, ...]] = {policy: tables for d in REGISTRY for policy, tables in d.suite_tables.items()}
