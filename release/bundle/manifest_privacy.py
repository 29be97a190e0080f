"""The manifest's ``privacy`` section as a typed model (``release.bundle.manifest``): what the tables
spent, as ``budget_run.privacy_section`` writes it, every model forbidding keys it does not name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.dataclasses import dataclass as pydantic_dataclass

from release.privacy.ledger_entries import Spend as _Spend

Number = int | float


class Strict(BaseModel):
    """A section of the manifest: a key it does not name is refused (rule manifest-keys)."""

    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


def written_as(cls: type[T]) -> type[T]:
    """The model of an item the build writes from one of its own dataclasses (``asdict``): the
    dataclass itself, validated with keys it does not name refused; never a copy of its fields.
    The dataclass is left as it is (pydantic makes a subclass)."""
    # the ignores are about the libraries' types: pydantic types the subclass of ``cls`` it returns as
    # ``type[PydanticDataclass]``, and typeshed declares no ``__dataclass_params__`` (every dataclass has it)
    return pydantic_dataclass(cls, config=ConfigDict(extra="forbid"),  # type: ignore[return-value]
                              frozen=cls.__dataclass_params__.frozen)  # type: ignore[attr-defined]


if TYPE_CHECKING:  # to a type checker the model is the dataclass it validates (its instances are)
    Spend = _Spend
else:
    Spend = written_as(_Spend)  # ``ledger_entries.Spend``


class Suppression(Strict):
    """How an exact table's small counts were hidden (``tables_text.exact_summary``): its family of linked
    cells, the threshold and the protection every hidden cell keeps (``config.tables.SuppressionSpec``)."""

    family: str
    threshold: int
    lower_protection: int
    upper_protection: int
    protection_width: int


class TableClaim(Strict):
    """A table's entry in ``privacy.tables`` (``release.build.tables_text``: summary, noisy or exact)."""

    table: str
    mechanism: str
    protection: str | None = None
    privacy_unit: str | None = None
    rho: float
    epsilon: float | None = None
    delta: float | None = None
    epsilon_at_delta: float | None = None
    bounds: str | None = None
    post_processing: str | None = None
    summary_of: str | None = None
    noise_scale: float | None = None
    measurements: int | None = None
    measurements_reused: int | None = None
    cells: int | None = None
    median_interval_width: float | None = None
    cells_suppressed: int | None = None
    suppression: Suppression | None = None
    meaning: str
    interval: str
    privacy: str


class Signed(Strict):
    """A witness statement and its signature (the statement is checked under the pinned key)."""

    statement: dict[str, Any]
    signature: str


class Measurement(Strict):
    """One noisy measurement: its fields hash to ``measurement_sha256`` (``ledger_entries.record_of``),
    the record the ledger stored and the witness signed; ``serialized`` is OpenDP's own description."""

    table: str
    dataset: str
    year: int
    data_year: int | None = None
    privacy_unit: str
    mechanism: str
    rho: float
    declared_budget: float
    privacy_loss: float
    delta: float
    d_in: Number
    input_metric: str
    output_measure: str
    l1_sensitivity: int
    l2_sensitivity_squared: int
    scale: float
    rounding: str
    features: list[str] = []
    opendp_version: str
    serialized: dict[str, Any]
    vector_length: int
    spec_sha256: str | None = None
    measurement_sha256: str | None = None
    ledger_charge: str | None = None
    reused: bool | None = None
    noisy_values: list[int] | None = None  # older builds did not publish the draws
    witness_draw: Signed | None = None


class Head(Strict):
    """The privacy ledger's head after the build's charges (private part), with the witness service's signed
    receipt when there is one: approve, publish and the audit require it on the chain the witness holds."""

    ledger_id: str
    head: str
    length: int | None = None
    entries: int | None = None  # older builds
    receipt: Signed | None = None


class Linkage(Strict):
    """What linking one record file's reports gives away, in counts (``linkage.Exposure``, in the private
    part): the people seen in several reports and those a class of too few people exposes."""

    repeated_people: int
    exposed_people: int
    exposing_classes: int
    min_people_per_class: int
    exposed_by_text: int | None = None
    pairs_compared: int | None = None
    pairs_capped_people: int | None = None
    linking_keys: int | None = None
    worst_key_leaves_out: list[str] = []


class Privacy(Strict):
    """What the tables spent (``budget_run.privacy_section``; ``{}`` for a release without tables)."""

    ledger: str | None = None
    ledger_id: str | None = None
    ledger_head: Head | None = None
    witness: str | None = None
    witness_tier: str | None = None
    run_id: str | None = None
    delta: float | None = None
    rho_cap: dict[str, float] | float = {}
    rho_spent: dict[str, float] | float = {}
    rho_charged_by_this_build: dict[str, float] = {}
    spends: list[Spend] = []
    tables: list[TableClaim] = []
    measurements: list[Measurement] = []
    rows_dropped: dict[str, int] = {}  # private part
    linkage: dict[str, Linkage] = {}   # private part
    # private part (round 31, R1): ``measurements[].ledger_charge`` and ``spends[].charge``, item by item
    # (``manifest_parts.SPLIT_ITEMS``); ``ledger_head`` is private too
    item_fields: dict[str, list[dict[str, str | bool | int | float | None]]] = {}  # charges, flags, counts (manifest_parts)
