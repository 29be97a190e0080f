"""``release doctor``: is this machine ready to build, approve and audit a release?

One line per check, offline: the pinned spaCy model (installed, at the pinned version, its
fingerprint, and whether the bundles under OUT were redacted by the same files), the PII
engine loading with the rules' recognizers, the HMAC key (where it comes from and its key
id, never the key; whether the bundles under OUT were built with it), the rules and suites in
use and their origin, the privacy ledger, Ray for ``--engine ray`` (with ``--address``: every node of that cluster runs the
same release, model and rules), and a browser for ``review --open``. A failed check
carries the exit code of its kind (9 model, key or Ray, 3 rules or suites, 6 ledger); the command
exits with the first one. A warning (no key yet, no trusted signer, no browser) leaves 0:
the first build makes the key, and a packet can be opened by hand.
"""

from __future__ import annotations

import json
import math
import os
import stat
import webbrowser
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from release import paths
from release.build.options import Progress, Silent
from release.bundle.manifest_recorded import Recorded
from release.bundle.places import all_bundles
from release.bundle.read import read_manifest
from release.bundle.trust import load_signers
from release.config.datasets import DATASETS
from release.config.policy import load_policy
from release.datasets.generations import policy_names
from release.errors import InputError, ReleaseError
from release.execution.ray_workers import INSTALL
from release.keys.hmac import master_key, master_key_id
from release.pii.engine import MODEL_PACKAGE  # the pin itself is in pyproject.toml (read back below)
from release.pii.model_files import package_fingerprint, package_root
from release.privacy.ledger import caps_in_force

if TYPE_CHECKING:
    from release.config.privacy import WitnessService


@dataclass(frozen=True)
class Check:
    """One line of ``release doctor``: a check's outcome, and the exit code a failure of its kind carries."""

    name: str
    status: Literal["ok", "warn", "fail"]
    detail: str
    exit_code: int = 0  # what a failure of this kind exits with


def _recorded(out_dir: Path, read: Callable[[Recorded], object]) -> dict[str, object]:
    """``read(manifest)`` for every bundle under ``out_dir``, by ``dataset`` and folder (``2020``, ``2020-v2``, ``2019-rms``)."""
    found: dict[str, object] = {}
    for dataset, _, _, folder in all_bundles(out_dir):
        try:
            manifest = read_manifest(folder, InputError)
        except (OSError, ReleaseError):  # no manifest, or not a JSON object: nothing recorded
            continue
        if (value := read(manifest)) is not None:
            found[f"{dataset} {folder.name}"] = value  # YEAR, YEAR-vN, or a split year's part
    return found


def _compared(recorded: dict[str, object], ours: str, what: str) -> tuple[bool, str]:
    """(whether any bundle used another ``what``, the clause that says so)."""
    differ = sorted(name for name, value in recorded.items() if value != ours)
    if not differ:
        return False, f"; the {len(recorded)} bundle(s) under OUT used the same {what}" if recorded else ""
    return True, f"; {len(differ)} bundle(s) under OUT used another {what}: {', '.join(differ[:3])}"


def _pin(package: str) -> str | None:
    """The version ``release`` pins ``package`` to (``package==X`` in its requirements, an extra's too)."""
    return next((r.split("==", 1)[1].split(";")[0].strip() for r in metadata.requires("release") or []
                 if r.startswith(f"{package}==")), None)


def model_check(out_dir: Path) -> Check:
    try:
        package_root(MODEL_PACKAGE)
    except ReleaseError as exc:
        return Check("model", "fail", exc.message, 9)
    installed = metadata.version(MODEL_PACKAGE)
    pin = _pin(MODEL_PACKAGE)
    if pin is not None and installed != pin:
        return Check("model", "fail", f"{MODEL_PACKAGE} {installed} is installed; {pin} is pinned", 9)
    fingerprint = package_fingerprint(MODEL_PACKAGE)

    def engine_of(manifest: Recorded) -> object:
        engine = manifest.pii_engine
        return engine.get("model_fingerprint") if engine is not None else None

    differs, clause = _compared(_recorded(out_dir, engine_of), fingerprint, "model")
    return Check("model", "warn" if differs else "ok",
                 f"{MODEL_PACKAGE} {installed} (pinned), fingerprint {fingerprint[:16]}{clause}")


def engine_check(rules_dir: Path, progress: Progress) -> Check:
    from release.pii.engine import EngineSettings, PiiEngine
    try:
        with progress.stage("load PII model"):
            engine = PiiEngine(EngineSettings(rules_dir=rules_dir / "pii", n_process=1))
    except ReleaseError as exc:
        return Check("pii engine", "fail", exc.one_line(), exc.exit_code)
    versions = engine.versions()
    return Check("pii engine", "ok", f"Presidio {versions['presidio']} and spaCy {versions['spacy']} load offline "
                                     f"with the recognizers of {rules_dir / 'pii'}")


def key_check(out_dir: Path) -> Check:
    try:
        key = master_key(create=False)
    except ReleaseError as exc:
        return Check("hmac key", "fail", exc.one_line(), 9)
    if key is None:
        return Check("hmac key", "warn", "none yet (RELEASE_HMAC_KEY is unset and there is no key file): the first "
                                         "build creates one; approve, publish and audit --raw need it")
    key_id = master_key_id(key.material)
    differs, clause = _compared(_recorded(out_dir, lambda m: m.value("hmac_key_id")), key_id, "key")
    loose = key.origin != "RELEASE_HMAC_KEY" and bool(os.stat(key.origin).st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    detail = f"key id {key_id[:16]} from {key.origin}{clause}" + ("; the file is readable by others: chmod 600"
                                                                 if loose else "")
    return Check("hmac key", "warn" if loose or differs else "ok", detail)


def rules_check(rules_dir: Path | None) -> Check:
    folder, origin = paths.chosen_dir("redaction_rules", rules_dir)
    try:
        for name in policy_names(DATASETS):  # a dataset's own, or one per generation (release.datasets.generations)
            load_policy(folder / f"{name}.yaml")
        signers = load_signers(folder)
    except ReleaseError as exc:
        return Check("rules", "fail", f"{folder} ({origin}): {exc.one_line()}", exc.exit_code)
    changed = paths.differences_from_installed(folder, "redaction_rules")
    detail = (f"{folder} ({origin}): {len(policy_names(DATASETS))} policies load"
              + (f", {len(changed)} file(s) differ from the installed copy" if changed else ", the installed policy")
              + f"; {len(signers.by_key_id)} trusted signer(s)")
    if rules_dir is None and Path("redaction_rules").is_dir():
        detail += "; ./redaction_rules is not used (pass it with --rules)"
    if not signers.by_key_id:
        return Check("rules", "warn", detail + ": nothing can be approved until an administrator adds one")
    return Check("rules", "ok", detail)


def expectations_check(expectations_dir: Path | None) -> Check:
    folder, origin = paths.chosen_dir("expectations", expectations_dir)
    for name in policy_names(DATASETS):
        for side in ("raw", "public"):
            suite = folder / f"{name}_{side}.json"
            try:
                json.loads(suite.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return Check("expectations", "fail", f"{suite}: missing or not JSON", 3)
    return Check("expectations", "ok", f"{folder} ({origin}): {2 * len(policy_names(DATASETS))} suites")


def ledger_check(out_dir: Path, explicit: Path | None, rules_dir: Path | None = None) -> Check:
    """The authoritative privacy ledger (the privacy policy's; ``$RELEASE_LEDGER`` may only name it): readable,
    every unit's spend within the cap fixed on it, the chain its witness anchors, and which witness tier
    guards it: the service (asked for a fresh signed head) or the folder, a lower tier (always a warning)."""
    from release.config.privacy import (
        WitnessService,
        authoritative_ledger,
        load_privacy_policy,
    )
    from release.privacy import trusted_units
    from release.privacy.ledger_open import existing_ledger, witness_for
    from release.witness.anchor import check as witness_check
    rules = rules_dir or paths.default_dir("redaction_rules")[0]
    try:
        path, spec = authoritative_ledger(rules, explicit)
        policy = load_privacy_policy(rules)
        ledger = existing_ledger(rules, explicit)
        entries = ledger.entries() if ledger is not None else []
        unanchored = witness_check(witness_for(spec), entries, first_use_ok=True)[0]
    except ReleaseError as exc:
        return Check("ledger", "fail", exc.one_line(), exc.exit_code)
    if unanchored:
        return Check("ledger", "fail", f"{path}: {unanchored[0]}", 6)
    # a declared unit's spend counts the stray charges it absorbs; a stray charge none absorbs is named
    # (the audit prints the fix: release.privacy.trusted_units)
    caps, spent = caps_in_force(entries), trusted_units.counted(entries, policy)
    over = sorted(u for u, rho in spent.items()
                  if rho > min(caps.get(u, math.inf), policy.units[u].cap_rho) * (1 + 1e-12))
    stray = len(trusted_units.ledger_problems(entries, policy))
    detail = (f"{path}: {len(caps)} privacy unit(s) with a cap" if ledger is not None
              else f"none yet at {path}: the first build with noisy tables creates it")
    detail += f", over the cap: {', '.join(over)}" if over else ""
    detail += f", {stray} stray charge(s) counted against no cap (release audit prints the fix)" if stray else ""
    over += [f"{stray} stray charge(s)"] if stray else []
    if spec is None:
        return Check("ledger", "warn", f"{detail}; no witness: approve and publish refuse releases with noisy "
                                       "tables until an administrator names one in privacy.yaml (witness:)")
    if isinstance(spec, WitnessService):
        return _service_check(spec, detail, over, rules)
    risk = witness_risk(spec) or ("this account cannot write it, but the accounts whose builds create its files "
                                  f"own them and can rewrite them or mount a copy over its path; {DEPLOYMENT}")
    return Check("ledger", "warn", f"{detail}; witness: the folder tier (lower) at {spec}: {risk}")


def _service_check(spec: WitnessService, detail: str, over: list[str], rules: Path) -> Check:
    """The service tier: a fresh head signed by the pinned key, and who keeps the service."""
    import socket

    from release.privacy.ledger_open import witness_for
    from release.witness.client import ServiceWitness
    from release.witness.places import socket_exposure
    witness = witness_for(spec)
    assert isinstance(witness, ServiceWitness)  # what a ``WitnessService`` spec names
    try:
        statement = witness.statement()
    except ReleaseError as exc:
        return Check("ledger", "fail", f"{detail}; {exc.message}", exc.exit_code)
    detail += (f"; witness: the service tier, {witness.label}: a fresh head signed by the pinned key, "
               f"{statement.get('length')} entries held")
    service = str(getattr(spec, "service", ""))
    uid = statement.get("uid")
    exposed = socket_exposure(Path(service), uid if isinstance(uid, int) else None) if service.startswith("/") else None
    if exposed:
        return Check("ledger", "fail", f"{detail}; but {exposed} (noise.md, section 6)", 6)
    counts = _counts_key_problem(statement.get("counts_key_id"))
    if counts:
        return Check("ledger", "fail", f"{detail}; but {counts} (noise.md, section 6)", 6)
    served = statement.get("declarations_sha256")
    declarations = _declarations_problem(served, rules)
    if declarations and served is None:
        return Check("ledger", "fail", f"{detail}; but {declarations} (noise.md, section 6)", 6)
    if declarations:  # stale declarations: said, and the checks below still run
        detail, over = f"{detail}; but {declarations} (noise.md, section 6)", [*over, "stale declarations"]
    if not service.startswith("/"):
        return Check("ledger", "warn", f"{detail}; but it is reached over TCP, which carries no peer uid: it takes "
                                       "appends and draws there only when served with --writer any, from any account "
                                       "that can connect (the lower tier); serve it on a Unix socket with --writer "
                                       "naming the accounts whose builds write the ledger (noise.md, section 6)")
    if statement.get("uid") == os.geteuid() and statement.get("host") == socket.gethostname():
        return Check("ledger", "warn", f"{detail}; but it runs under this very account, which can then read its "
                                       "key and rewrite its store: run it under an account of its own (noise.md, "
                                       "section 6)")
    return Check("ledger", "warn" if over else "ok", f"{detail}, kept by another account")


def _counts_key_problem(served: object) -> str | None:
    """Why the service cannot make draws a build here takes: no counts key, or another one than this
    machine's HMAC key derives (``release.witness.counts``); None when it can (or no key is here)."""
    from release.keys.hmac import existing_key
    from release.witness.counts import from_master
    if served is None:
        return ("it was started without --counts-key, so it makes no draw: make the key where the HMAC key is "
                "(release witness counts-key --out FILE) and restart it with --counts-key FILE")
    try:
        master = existing_key()
    except ReleaseError:  # the key's own check reports it
        master = None
    mine = from_master(master).key_id if master else None
    if mine is not None and served != mine:
        return (f"its counts key (id {str(served)[:16]}) is not the one this machine's HMAC key derives (id {mine}): "
                "it refuses this machine's draws; make the key again with release witness counts-key where the "
                "organisation's HMAC key is")
    return None


def _declarations_problem(served: object, rules: Path) -> str | None:
    """Why the service does not draw by these rules' declarations: it was started without --rules (it
    makes no draw), or it holds other declarations (it reads them once, at start); None when it does
    (or these rules do not load: the rules check reports that)."""
    from release.witness.declared import load_declared
    if served is None:
        return ("it was started without --rules, so it makes no draw: restart it with --rules DIR, the "
                "organisation's trusted rules folder")
    try:
        mine = load_declared(rules).digest
    except ReleaseError:
        return None
    if served != mine:
        return ("it draws by other declarations (units, caps, absorbs or tables) than this rules folder's: it reads "
                "its --rules once, at start, so after a policy change its administrator restarts it (release witness "
                "serve ... --rules DIR); until then it refuses draws the new policy declares and holds the old caps")
    return None


DEPLOYMENT = ("a folder witness only protects against accounts that cannot write it: run the witness service "
              "under an account of its own (release witness serve) and pin it in privacy.yaml, or put the folder "
              "where the analysts' accounts cannot rewrite, delete or mount over it: WORM storage (an object-locked "
              "bucket, a SnapLock-style share), or files another account makes immutable (chattr +i); see "
              "release/stages/noise.md, section 6")


def witness_risk(folder: Path) -> str | None:
    """Why this account could rewrite the witness's history (and so roll the ledger back unseen), or
    None when it can neither create files in the folder nor owns any there. A folder with Linux's
    append-only attribute (``chattr +a``) stops unlink and rename, not the owner of a file in it:
    ``chmod u+w`` and an overwrite work, and any account that can create files there can also run
    the tool in a private mount namespace with a copy mounted over the path (issue #12, 2f-rw, 2f-ns)."""
    if not folder.is_dir():
        return f"not there yet (the first build creates it): {DEPLOYMENT}"
    try:
        owned = sum(1 for p in folder.iterdir() if p.lstat().st_uid == os.geteuid())
    except OSError:  # not listable by this account: it cannot have made its files either
        owned = 0
    if owned:
        return (f"NOT append-only for this account: it owns {owned} of its files and can rewrite them "
                f"(chmod u+w, then overwrite), rolling the ledger back unseen; {DEPLOYMENT}")
    if os.access(folder, os.W_OK):
        what = "its append-only attribute stops deletion only" if _append_only(folder) else \
            "this account can delete its files"
        return (f"this account can create files in it, and owns every file it creates ({what}): it could rewrite "
                f"them, or mount a copy over the path in a private namespace (unshare); {DEPLOYMENT}")
    return None


def _append_only(folder: Path) -> bool:
    """Whether the folder carries Linux's append-only attribute (``chattr +a``)."""
    try:
        import fcntl
        import struct
        fd = os.open(folder, os.O_RDONLY)
        try:  # FS_IOC_GETFLAGS; FS_APPEND_FL = 0x20
            return bool(struct.unpack("i", fcntl.ioctl(fd, 0x80086601, b"\0\0\0\0"))[0] & 0x20)
        finally:
            os.close(fd)
    except (OSError, ImportError):
        return False


def browser_check() -> Check:
    try:
        name = getattr(webbrowser.get(), "name", "default")
    except webbrowser.Error:
        return Check("browser", "warn", "none found: review --open cannot open the packet; open review/index.html "
                                        "by hand or copy it to a machine with a browser")
    return Check("browser", "ok", f"{name} (for review --open)")


def ray_check(rules_dir: Path, address: str | None) -> Check:
    """The optional extra for ``--engine ray``: installed at its pin (a warning otherwise: local runs
    need no Ray); with ``address``, every node of that cluster runs this release, the same model and
    the same rules (fail, 9, as a run there would), each found by a task pinned to the node."""
    pin = _pin("ray")
    try:
        installed = metadata.version("ray")
    except metadata.PackageNotFoundError:
        return (Check("ray", "fail", f"--address given, but Ray is not installed: {INSTALL}", 9) if address
                else Check("ray", "warn", f"not installed: --engine ray needs it ({INSTALL}); local runs do not"))
    pinned = pin is None or installed == pin
    detail = f"Ray {installed}" + (" (pinned)" if pinned else f", not the pinned {pin}") + " for --engine ray"
    if address is None:
        return Check("ray", "ok" if pinned else "warn", detail)
    from release.execution.ray_workers import node_versions, versions_here

    try:
        nodes = node_versions(address, rules_dir / "pii")
    except ReleaseError as exc:
        return Check("ray", "fail", exc.one_line(), 9)
    ours = versions_here(str(rules_dir / "pii"))
    differ = [f"{node}: another {', '.join(k.replace('_', ' ') for k in sorted(ours) if theirs.get(k) != ours[k])}"
              for node, theirs in nodes if theirs != ours]
    if differ or not nodes:
        return Check("ray", "fail", "; ".join(differ) or "the cluster at the address given has no live node", 9)
    return Check("ray", "ok" if pinned else "warn",
                 f"{detail}; {len(nodes)} node(s) at the address given run release {ours['release']}, Python "
                 f"{ours['python']}, the model (fingerprint {ours['model_fingerprint'][:16]}) and the rules of "
                 f"{rules_dir / 'pii'}")


def doctor(out_dir: Path, rules_dir: Path | None = None, expectations_dir: Path | None = None,
           ledger: Path | None = None, progress: Progress | None = None,
           address: str | None = None) -> dict[str, object]:
    """Every check, and the exit code of the first that failed (0 when none did)."""
    rules = paths.chosen_dir("redaction_rules", rules_dir)[0]
    checks = [model_check(out_dir), engine_check(rules, progress or Silent()), key_check(out_dir),
              rules_check(rules_dir), expectations_check(expectations_dir), ledger_check(out_dir, ledger, rules),
              ray_check(rules, address), browser_check()]
    failed = [c for c in checks if c.status == "fail"]
    return {"ok": not failed, "exit_code": failed[0].exit_code if failed else 0,
            "error": f"{failed[0].name}: {failed[0].detail}" if failed else None,
            "warnings": sum(c.status == "warn" for c in checks), "checks": [asdict(c) for c in checks]}
