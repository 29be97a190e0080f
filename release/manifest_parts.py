"""The manifest's two parts: what may be published beside ``public/``, and what stays with the bundle.

``manifest.json`` is signed by the approvals and copied to the portal as it is, so it holds only
what a portal or an auditor needs to verify the public files (their hashes, the policy's hashes,
versions, status, the privacy spent) and nothing about the raw data that is not itself published.
Exact counts about the raw data (every finding with its count and row keys, the inputs' row
counts, the redaction log's counts, rows dropped by contribution bounding, what linking the public
files exposes, reviewers' decisions) go to ``review/manifest_private.json``, listed in the
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
PRIVATE_KEYS = ("inputs", "redaction_log", "findings", "review_decisions")
PRIVATE_PRIVACY_KEYS = ("rows_dropped", "linkage")


def split(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public part, private part) of a full manifest."""
    public = {k: v for k, v in manifest.items() if k not in PRIVATE_KEYS}
    private: dict[str, Any] = {k: manifest[k] for k in PRIVATE_KEYS if k in manifest}
    privacy = manifest.get("privacy")
    if isinstance(privacy, Mapping):
        public["privacy"] = {k: v for k, v in privacy.items() if k not in PRIVATE_PRIVACY_KEYS}
        private["privacy"] = {k: privacy[k] for k in PRIVATE_PRIVACY_KEYS if k in privacy}
    return public, private


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
        if key == "privacy" and isinstance(value, dict) and isinstance(full.get("privacy"), dict):
            full["privacy"] = {**full["privacy"], **value}
        elif key in PRIVATE_KEYS:
            full[key] = value
    return full
