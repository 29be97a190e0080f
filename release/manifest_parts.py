"""The manifest's two parts: what may be published beside ``public/``, and what stays with the bundle.

``manifest.json`` is signed by the approvals and copied to the portal as it is, so it holds only
what a portal or an auditor needs to verify the public files (their hashes, the policy's hashes,
versions, status, the privacy spent) and nothing about the raw data that is not itself published.
Exact counts about the raw data (every finding with its count and row keys, the inputs' row
counts, the redaction log's counts, rows dropped by contribution bounding, what linking the public
files exposes, reviewers' decisions, the checks' counts, the run's execution, and the build
machine's paths and addresses: rules and expectations folders, the ledger's path, the witness's
address) go to ``review/manifest_private.json``, listed in the
manifest's outputs with its SHA-256, so the signature covers them and an auditor with the bundle
sees them; ``read`` merges the two parts.
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
PRIVATE_KEYS = ("inputs", "redaction_log", "findings", "review_decisions", "checks", "execution")
PRIVATE_PRIVACY_KEYS = ("rows_dropped", "linkage", "ledger", "witness")
# sections split key by key: the build machine's paths and addresses stay with the bundle. Nothing on the
# portal can hold them to anything, so in the public part they were a channel for any value (attack round
# 26, M-path: the exact counts in rules.folder; M-numbers: in checks' and execution's free numbers)
PRIVATE_NESTED = {"privacy": PRIVATE_PRIVACY_KEYS, "rules": ("folder",), "expectations": ("folder",)}


def split(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public part, private part) of a full manifest."""
    public = {k: v for k, v in manifest.items() if k not in PRIVATE_KEYS}
    private: dict[str, Any] = {k: manifest[k] for k in PRIVATE_KEYS if k in manifest}
    for section, keys in PRIVATE_NESTED.items():
        value = manifest.get(section)
        if isinstance(value, Mapping):
            public[section] = {k: v for k, v in value.items() if k not in keys}
            private[section] = {k: value[k] for k in keys if k in value}
    return public, private


def public_part_problems(public: Mapping[str, Any]) -> list[str]:
    """Keys of the private part found in ``manifest.json`` itself, which is copied to the portal (rule
    manifest-keys; a bundle built before round 26 had some of them there and is rebuilt once)."""
    found = [k for k in PRIVATE_KEYS if k in public]
    found += [f"{section}.{k}" for section, keys in PRIVATE_NESTED.items()
              if isinstance(public.get(section), Mapping) for k in keys if k in public[section]]
    return [f"manifest.json {key}: belongs to the bundle's private part ({PRIVATE_FILE}), never beside the public "
            "files, rule manifest-keys" for key in found]


def private_text(private: Mapping[str, Any]) -> str:
    return json.dumps(private, indent=2, sort_keys=False) + "\n"


def merged(bundle: Path, public: dict[str, Any]) -> dict[str, Any]:
    """The full manifest: ``public`` with the bundle's private part, when that file is there and
    matches the hash the manifest lists for it (a published copy has none; a changed file is left
    out here and reported by the integrity check, which compares every listed file)."""
    outputs = public.get("outputs")
    listed = next((item for item in outputs if isinstance(item, dict) and item.get("path") == PRIVATE_FILE), None) \
        if isinstance(outputs, list) else None
    path = bundle / PRIVATE_FILE
    if listed is None or not path.is_file():
        return public
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != listed.get("sha256"):
        return public
    try:
        private = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return public
    if not isinstance(private, dict):
        return public
    full = dict(public)
    for key, value in private.items():
        if key in PRIVATE_NESTED and isinstance(value, dict) and isinstance(full.get(key), dict):
            full[key] = {**full[key], **{k: v for k, v in value.items() if k in PRIVATE_NESTED[key]}}
        elif key in PRIVATE_KEYS:
            full[key] = value
    return full
