"""The manifest's two parts: what may be published beside ``public/``, and what stays with the bundle.

``manifest.json`` is signed by the approvals and copied to the portal as it is, so it holds only
what a portal or an auditor needs to verify the public files (their hashes, the policy's hashes,
versions, status, the privacy spent) and nothing about the raw data that is not itself published.
Exact counts about the raw data (every finding with its count and row keys, the inputs' row
counts, the redaction log's counts, rows dropped by contribution bounding, what linking the public
files exposes, reviewers' decisions, the checks' counts, the run's execution, and the build
machine's paths and addresses: rules and expectations folders, the ledger's path, the witness's
address), and whatever no reader of the portal could regenerate (the run's ids and time, the
component and engine versions, the expectation suites' hashes: round 30; the privacy ledger's head,
its length and the witness's receipt for them, and the hashes of the charge entries that paid for the
measurements: round 31, R1, since the analyst chooses what and how much is written on the ledger) go to
``review/manifest_private.json``, which an auditor with the bundle reads (``merged`` merges the two parts).
Round 31 (C1): ``manifest.json`` lists only the files the portal gets. The files that stay with the
bundle (the redaction log, ``review/``) are listed with their hashes in the private part
(``bundle_files``), and the private part is bound by a second signature of each approval, its seal
(``gate.approve``), which stays with the bundle too: their hashes and sizes, which no reader of the
portal could regenerate and whose bytes the analyst writes, were published, so padding or grinding
them carried any value.
An exact count of rows without a person key, published, bounded the protected table's total
exactly (issue #12, attack 1e).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PRIVATE_FILE = "review/manifest_private.json"
BUNDLE_FILES = "bundle_files"  # the files that stay with the bundle, with their hashes (round 31, C1)
PRIVATE_KEYS = ("inputs", "redaction_log", "findings", "review_decisions", "checks", "execution",
                "run_id", "created_at", "components", "pii_engine", "expectations", BUNDLE_FILES)
PRIVATE_PRIVACY_KEYS = ("rows_dropped", "linkage", "ledger", "witness", "run_id", "ledger_head", "item_fields",
                        "rho_charged_by_this_build")
# Round 31 (R1): what the analyst writes on the ledger stays with the bundle. The ledger's head (an entry's hash,
# the entry count and the witness's receipt for them) and each charge entry's hash depend on ledger entries whose
# content and number the analyst chooses (a decision entry for another year: its hash ground to 16 bits of a DOB,
# or 142 of them appended to set the count), so in the public part they were a channel. Approve, publish and the
# audit still hold them to the ledger through the merged manifest; a reader of the portal checks the witness's
# signed draw statements instead (``verify_copy``).
# SPLIT_ITEMS: fields of list items that stay with the bundle. The public part lists every item without them; the
# private part keeps only those fields, item by item, under ``item_fields`` (``{list: [{field: value}, ...]}``),
# never a second copy of the list, so what approve, publish and the audit read of an item is what is published,
# with those fields added (``with_item_fields``, which ``read.manifest_privacy`` applies).
# Round 33: whether this build drew a measurement or re-used a stored one (``reused``, a table's
# ``measurements_reused``, ``rho_charged_by_this_build``) is the build's history, which no reader can
# regenerate and the analyst steers (a forced redraw): it stays with the bundle too. What the release
# spends (``rho_spent``, each spend's rho) stays public, held exactly (``trusted_privacy``).
SPLIT_ITEMS: dict[str, dict[str, tuple[str, ...]]] = {
    "privacy": {"measurements": ("ledger_charge", "reused"), "spends": ("charge", "reused"),
                # round 34 (N2): a table's cell count, measurement count and median interval width were
                # compared with nothing (64 bits each); the statement does not use them, the packet does
                "tables": ("measurements_reused", "cells", "measurements", "median_interval_width")}}
ITEM_FIELDS = "item_fields"
# sections split key by key: the build machine's paths and addresses stay with the bundle. Nothing on the
# portal can hold them to anything, so in the public part they were a channel for any value (attack round
# 26, M-path: the exact counts in rules.folder; M-numbers: in checks' and execution's free numbers)
# Round 30 (C1): what a reader of the portal cannot regenerate stays with the bundle too. The run's
# identifiers (``run_id``, ``privacy.run_id``: drawn at random, 128 bits each), its time (``created_at``),
# the build machine's component and engine versions, the expectation suites' hashes and the rules'
# origin were held to their form only, so any value of that form passed and was published; in the
# private part an auditor with the bundle still reads them (``merged``), and the approvals sign them.
# Of ``rules`` the public part keeps what approve and publish hold to the trusted rules folder: the
# hash of the bundle's policy file and, once the policy lists signers, of the signers list
# (``public_rules``, regenerated by ``trusted_manifest``); the private part has the whole section.
PRIVATE_NESTED = {"privacy": PRIVATE_PRIVACY_KEYS, "rules": ("folder", "origin", "default", "differs_from_installed")}
SPLIT_LISTS = {"rules": "files"}  # public: the items ``public_rules`` names; private: the whole list


def split(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public part, private part) of a full manifest."""
    from release.bundle.manifest_recorded import Recorded

    recorded = Recorded.of(manifest)
    public = {k: v for k, v in manifest.items() if k not in PRIVATE_KEYS}
    private: dict[str, Any] = {k: recorded.value(k) for k in PRIVATE_KEYS if k in recorded}
    for section, keys in PRIVATE_NESTED.items():
        value = recorded.value(section)
        if isinstance(value, Mapping):
            lists = SPLIT_ITEMS.get(section, {})
            public[section] = {k: _without(v, lists[k]) if k in lists else v for k, v in value.items()
                               if k not in keys}
            private[section] = {k: value[k] for k in keys if k in value}
            kept = {name: [{f: item[f] for f in fields if f in item} if isinstance(item, Mapping) else {}
                           for item in value[name]] for name, fields in lists.items() if isinstance(value.get(name), list)}
            if any(item for items in kept.values() for item in items):
                private[section][ITEM_FIELDS] = kept
    rules = recorded.rules
    if rules is not None and isinstance(rules.get("files"), list):
        named = public_rules(manifest)
        public["rules"]["files"] = [f for f in rules["files"] if isinstance(f, Mapping) and f.get("path") in named]
        private["rules"]["files"] = rules["files"]
    return public, private


def public_rules(manifest: Mapping[str, Any]) -> set[str]:
    """The rule files whose hashes the public part lists: the bundle's policy (the dataset's, or its
    generation's) and, when it lists someone, the trusted-signers list. Approve and publish hold both
    to the trusted rules folder (``trust.trust_for``); the other files' hashes, which a reader of the
    portal could not regenerate, are in the private part (round 30, C1)."""
    from release.bundle.manifest_recorded import Recorded
    from release.datasets.generations import policy_of_manifest
    from release.errors import ReleaseError
    from release.paths import SIGNERS_FILE

    recorded = Recorded.of(manifest)
    rules = recorded.rules
    signers = rules is not None and bool(rules.get("trusted_signers"))
    try:
        policy = policy_of_manifest(recorded.dataset_name, manifest)
    except ReleaseError:  # a generation no policy declares: the trusted checks name it
        policy = recorded.dataset_name
    return {f"{policy}.yaml", *([SIGNERS_FILE] if signers else [])}


def _without(items: object, fields: tuple[str, ...]) -> object:
    """A SPLIT_ITEMS list as the public part lists it: each item without ``fields``."""
    if not isinstance(items, list):
        return items
    return [{k: v for k, v in item.items() if k not in fields} if isinstance(item, Mapping) else item
            for item in items]


def _lined_up(section: str, value: Mapping[str, Any]) -> dict[str, list[Any]] | None:
    """The ``item_fields`` of a merged section, each list's as long as the section's list and each item's
    fields only its SPLIT_ITEMS fields; None when it has none, or they do not line up so."""
    kept = value.get(ITEM_FIELDS)
    lists = SPLIT_ITEMS.get(section, {})
    if not isinstance(kept, Mapping) or not set(kept) <= set(lists):
        return None
    for name, fields in kept.items():
        items = value.get(name)
        if not (isinstance(fields, list) and isinstance(items, list) and len(fields) == len(items)
                and all(isinstance(f, Mapping) and set(f) <= set(lists[name]) for f in fields)):
            return None
    return dict(kept)


def with_item_fields(section: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A merged manifest's ``section`` with each SPLIT_ITEMS list's items given back the fields the private
    part keeps for them (``item_fields``, item by item); as it is when it has none, or when they do not line
    up with the lists (``split_items_problems`` names that; the items then lack their charges)."""
    kept = _lined_up(section, value)
    if kept is None:
        return value
    return {**value, **{name: [{**item, **fields} if isinstance(item, Mapping) else item
                               for item, fields in zip(value[name], kept[name], strict=True)] for name in kept}}


def split_items_problems(full: Mapping[str, Any]) -> list[str]:
    """A merged manifest's ``item_fields`` that do not line up with its lists (rule manifest-keys)."""
    return [f"{PRIVATE_FILE} {section}.{ITEM_FIELDS}: does not line up with {section}'s lists in manifest.json "
            "(one entry per item, only the fields kept apart), rule manifest-keys"
            for section in SPLIT_ITEMS if isinstance(full.get(section), Mapping)
            and ITEM_FIELDS in full[section] and _lined_up(section, full[section]) is None]


def public_part_problems(public: Mapping[str, Any]) -> list[str]:
    """Keys of the private part found in ``manifest.json`` itself, which is copied to the portal (rule
    manifest-keys; a bundle built before round 26 had some of them there, and one built before round 31
    its ledger head and its charges' hashes, and is rebuilt once)."""
    found = [k for k in PRIVATE_KEYS if k in public]
    found += [f"{section}.{k}" for section, keys in PRIVATE_NESTED.items()
              if isinstance(public.get(section), Mapping) for k in keys if k in public[section]]
    outputs = public.get("outputs")
    kept = [str(o.get("path")) for o in outputs if isinstance(o, Mapping) and not str(o.get("path")).startswith("public/")] \
        if isinstance(outputs, list) else []
    for section, lists in SPLIT_ITEMS.items():
        value = public.get(section)
        for name, fields in lists.items():
            items = value.get(name) if isinstance(value, Mapping) else None
            items = items if isinstance(items, list) else []
            found += [f"{section}.{name}[].{field}" for field in fields
                      if any(isinstance(item, Mapping) and field in item for item in items)]
    return [f"manifest.json {key}: belongs to the bundle's private part ({PRIVATE_FILE}), never beside the public "
            "files, rule manifest-keys" for key in found] + \
        ([f"manifest.json outputs: lists {len(kept)} file(s) that stay with the bundle; their hashes and sizes belong to "
          f"the bundle's private part ({PRIVATE_FILE}), rule manifest-keys (a bundle built before round 31 is "
          "rebuilt once)"] if kept else [])


def private_text(private: Mapping[str, Any]) -> str:
    return json.dumps(private, indent=2, sort_keys=False) + "\n"


def merged(bundle: Path, public: dict[str, Any]) -> dict[str, Any]:
    """The full manifest: ``public`` with the bundle's private part, when that file is there and is a JSON
    object (a published copy has none). Nothing in ``manifest.json`` names the private part (round 31,
    C1: its hash was published, and its content is the analyst's); what binds it to the release is each
    approval's seal (``private_sha256``, checked by ``trust.approval_status``), and its own files' hashes
    (``bundle_files``) are compared by the integrity check."""
    path = bundle / PRIVATE_FILE
    if not path.is_file():
        return public
    try:
        private = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return public
    if not isinstance(private, dict):
        return public
    full = dict(public)
    for key, value in private.items():
        if key in PRIVATE_NESTED and isinstance(value, dict) and isinstance(full.get(key), dict):
            taken = (*PRIVATE_NESTED[key], *([SPLIT_LISTS[key]] if key in SPLIT_LISTS else []))
            full[key] = {**full[key], **{k: v for k, v in value.items() if k in taken}}
        elif key in PRIVATE_KEYS:
            full[key] = value
    for section in SPLIT_ITEMS:  # each item given back its fields kept apart (round 31, R1; round 33)
        if isinstance(full.get(section), dict):
            full[section] = dict(with_item_fields(section, full[section]))
    return full


def private_sha256(bundle: Path) -> str | None:
    """The SHA-256 of the bundle's private part, which each approval's seal signs; None without one."""
    path = bundle / PRIVATE_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
