"""A manifest as a bundle or a published copy holds it, read before the trusted checks have held it to the model
(``release.bundle.manifest``): ``Recorded``, which ``release.bundle.read.read_manifest`` returns.

A bundle is a folder anyone can edit, and several checks run on its manifest before the ones that hold it to the
model (the integrity check, the gate's first refusals, the audit, which reports every check, the listing, the
packet): each must read what it needs whatever the file holds, and name its own refusal. ``Recorded`` reads each
key the readers use as a typed value; a value not of the type the build writes reads as absent (or as the text,
characters or keys the reader it replaced read), and no reading raises. Kept apart from the model so that the
lower packages (configuration, keys, the datasets' generations) read it without importing pydantic or the stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from release.bundle.manifest import Manifest


def _iterated(value: object) -> list[Any]:
    """What iterating a JSON value gives, as the readers before ``Recorded`` iterated ``value or []``: a list's
    items, a text's characters, an object's keys; nothing of a number (it was an error)."""
    return list(value) if isinstance(value, list | str | dict) else []


def _records(value: object) -> list[dict[str, Any]]:
    """The items of a JSON value that are objects (none of a value that is not a list)."""
    return [item for item in _iterated(value) if isinstance(item, dict)]


class Recorded(dict[str, Any]):
    """A manifest as a bundle or a published copy holds it (``release.bundle.read.read_manifest``; in a bundle with
    its private part merged), before the trusted checks have held it to ``Manifest``.

    It is the JSON object itself, which those checks compare key by key (``release.audit.trusted_manifest``)
    and tests edit, with the keys its readers use read as typed values. An edited manifest may hold anything
    anywhere, so each reading says what a value not of the type the build writes reads as (absent, mostly); none
    raises, and each is what the reader it replaced read, so every refusal keeps its order and its words. Once the
    checks have passed, ``checked()`` is the typed model."""

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> Recorded:
        """``manifest`` as a ``Recorded`` (itself when it is one; a dict the build or a test holds, copied)."""
        return manifest if isinstance(manifest, Recorded) else cls(manifest)

    def checked(self) -> Manifest:
        """The typed model (``ValidationError`` when the manifest is not of the shape the build writes)."""
        from release.bundle.manifest import read

        return read(self)

    # ---- values as written: for a reader that shows them or compares them with what the build writes

    def value(self, key: str) -> object:
        """A top-level value as written, of whatever type (None when absent)."""
        return self.get(key)

    def shown(self, key: str, absent: str = "") -> str:
        """A top-level value as text, as the packet and the listing show it (``absent`` when it is absent)."""
        return str(self[key]) if key in self else absent

    # ---- scalars

    @property
    def dataset(self) -> str | None:
        value = self.get("dataset")
        return value if isinstance(value, str) else None

    @property
    def dataset_name(self) -> str:
        """The dataset named, as text: what a check looks its policy up by (a value of another type reads as its
        text, ``None`` when absent, and no policy has such a name)."""
        return str(self.get("dataset"))

    @property
    def year(self) -> int | None:
        value = self.get("year")
        return value if isinstance(value, int) else None

    @property
    def year_number(self) -> int | None:
        """The year as ``int()`` reads what is written (``"2020"`` reads as 2020); None when it cannot."""
        try:
            return int(self["year"])
        except (KeyError, TypeError, ValueError, OverflowError):
            return None

    def is_for(self, dataset: str, year: int) -> bool:
        """Whether the manifest names this dataset and year (equal as JSON reads them)."""
        return bool(self.get("dataset") == dataset and self.get("year") == year)

    @property
    def status(self) -> str | None:
        value = self.get("status")
        return value if isinstance(value, str) else None

    @property
    def hmac_key_id(self) -> str | None:
        value = self.get("hmac_key_id")
        return value if isinstance(value, str) else None

    @property
    def version(self) -> int | None:
        """The bundle's version: 1 when absent (a first version written before versions were), None when it is
        not an integer."""
        value = self.get("version", 1)
        return value if isinstance(value, int) else None

    @property
    def blocking(self) -> int:
        """The blocking findings recorded: the larger of the checks' count and the findings listed as blocking. A
        count that is not an integer counts as one: an edited manifest never reads as clear."""
        checks = self.checks
        recorded = checks.get("blocking_findings", 0) if checks is not None else 0
        listed = sum(1 for f in self.findings if f.get("severity") == "blocking")
        return max(int(recorded) if isinstance(recorded, int) else 1, listed)

    # ---- sections: an object, or None when absent or not an object

    def _section(self, key: str) -> dict[str, Any] | None:
        value = self.get(key)
        return value if isinstance(value, dict) else None

    @property
    def privacy(self) -> dict[str, Any] | None:
        """As written (a bundle's measurements and spends without the fields its private part keeps for them:
        ``release.bundle.read.manifest_privacy`` gives them back)."""
        return self._section("privacy")

    @property
    def rules(self) -> dict[str, Any] | None:
        return self._section("rules")

    @property
    def expectations(self) -> dict[str, Any] | None:
        return self._section("expectations")

    @property
    def parameters(self) -> dict[str, Any] | None:
        return self._section("parameters")

    @property
    def generation(self) -> dict[str, Any] | None:
        return self._section("generation")

    @property
    def components(self) -> dict[str, Any] | None:
        return self._section("components")

    @property
    def inputs(self) -> dict[str, Any] | None:
        return self._section("inputs")

    @property
    def checks(self) -> dict[str, Any] | None:
        return self._section("checks")

    @property
    def hmac(self) -> dict[str, Any] | None:
        return self._section("hmac")

    @property
    def pii_engine(self) -> dict[str, Any] | None:
        return self._section("pii_engine")

    @property
    def redaction_log(self) -> dict[str, Any] | None:
        return self._section("redaction_log")

    # ---- lists: the items that are objects (none when the value is not a list)

    @property
    def derived_files(self) -> list[dict[str, Any]]:
        """Each file the dataset's module derives, with its columns."""
        return _records(self.get("derived_files"))

    @property
    def findings(self) -> list[dict[str, Any]]:
        return _records(self.get("findings"))

    @property
    def review_decisions(self) -> list[dict[str, Any]]:
        return _records(self.get("review_decisions"))

    @property
    def record_risk(self) -> list[dict[str, Any]]:
        return _records(self.get("record_risk"))

    @property
    def rule_files(self) -> list[dict[str, Any]]:
        """``rules.files``: each file with its hash."""
        rules = self.rules
        return _records(rules.get("files") if rules is not None else None)

    @property
    def expectation_files(self) -> list[dict[str, Any]]:
        """``expectations.files``: each suite file with its hash (private part)."""
        expectations = self.expectations
        return _records(expectations.get("files") if expectations is not None else None)

    @property
    def input_files(self) -> list[dict[str, Any]]:
        """``inputs.files``: each raw file with its hash and rows (private part)."""
        inputs = self.inputs
        return _records(inputs.get("files") if inputs is not None else None)

    @property
    def table_claims(self) -> list[dict[str, Any]]:
        """``privacy.tables``: each table's entry."""
        privacy = self.privacy
        return _records(privacy.get("tables") if privacy is not None else None)

    def listed(self, key: str) -> list[Any]:
        """A list's items as written, whatever each is (none when the value is not a list): for the integrity
        checks, which name an item that is not of the form the build writes (``outputs``, ``bundle_files``)."""
        value = self.get(key)
        return list(value) if isinstance(value, list) else []

    # ---- texts

    @property
    def dataset_notes(self) -> list[str]:
        """Each note as text (a text written in place of the list reads as its characters)."""
        return [str(note) for note in _iterated(self.get("dataset_notes"))]

    @property
    def publication_notes(self) -> list[str]:
        """Each note as text (a text written in place of the list reads as its characters)."""
        return [str(note) for note in _iterated(self.get("publication_notes"))]
