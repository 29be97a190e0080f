"""The ledger's witness service (``release witness serve``): an append-only record of the privacy
ledger's chain that another account keeps, signing what it holds with a key only that account has,
and, in this tier, the maker of every noisy draw the ledger pays for.

The folder witness (``release.witness.folder``) is written by the analyst's own builds, so its
writer can forge it: rewrite the files it owns, or mount a copy over its path in a private
namespace and draw there (issue #12, attacks 2f-rw, 2f-ns). Here the analyst's process only
*asks*: the store (``witness.sqlite`` in ``--dir``, ``release.witness.store``) and the key
(``--key``) belong to the service's account, and every answer that vouches for something is a
statement signed with that key (``release.witness.protocol``), which the organisation's
``privacy.yaml`` pins.

Ops: ``head`` (open to all), ``append`` and ``draw`` (writers only), ``tail`` (writers only: it
hands back unpaid draws). A witness that only saw hashes could be handed a charge for a draw made
on a throw-away ledger (attack 4x-import), so the service makes every draw itself
(``release.stages.noise``, OpenDP), records it before it answers, refuses a new draw while one is
unpaid and a charge that pays none of its draws. Who may write: on the Unix socket the peer's uid
(SO_PEERCRED) must be one of ``--writer`` (default: the service's own account); TCP carries no
uid, so it takes appends and draws only with ``--writer any`` (the lower tier). One lock orders
the requests, and each commits before its statement is returned.

What it signs carries nothing the client chose (``release.witness.protocol``, round 31): the
request's nonce is answered by a separate ``fresh`` signature the client keeps to itself, a draw
statement signs the charge but its run and measurement key (the ledger's charge entry carries
them, and ``witness_store`` holds that entry to the draw), and the charge's rho and epsilon and the
draw's budget are the declared numbers exactly (``witness_declared``), so no statement copied into
the public manifest has a free bit in it.

Each draw statement commits to the counts the service drew on, under the counts key it is given
(``--counts-key``; why the service and not the analyst's tool: ``release.witness.counts``). It draws
only the measurements the organisation's trusted rules (``--rules``, read once at start) declare,
charged to the caps they give (``release.witness.declared``; round 25: a writer's own ``cap`` entry
or an 18-fold rho were drawn). Without either option it makes no draw: heads, appends and tails go
on, so what was built before stays checkable.
"""

from __future__ import annotations

import os
import pwd
import re
import socket
import socketserver
import sqlite3
import stat
import struct
import threading
from collections.abc import Callable, Collection, Mapping
from contextlib import suppress
from itertools import pairwise
from pathlib import Path
from typing import Any

from release.bundle.jsonl import utc_now
from release.errors import ApprovalError, BudgetError, ConfigError, EnvironmentProblem, ReleaseError
from release.keys.signing import load_private_key, one_line, private_key_id, sign_bytes
from release.privacy.ledger_entries import CHARGE_FIELDS
from release.witness.counts import CountsKey
from release.witness.counts import load_key_file as load_counts_key
from release.witness.declared import Declared, load_declared
from release.witness.places import check_key_file, check_rules_folder, own_folder
from release.witness.protocol import DRAW, HEAD, MAX_LINE, RECEIPT, TIMEOUT, fresh_message, message, signed_charge
from release.witness.store import STORE, Refused, Store

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NONCE = re.compile(r"^[0-9A-Za-z_-]{16,128}$")
ANY = "any"  # --writer any: every account that can connect may append and draw (TCP's only way to take them)
WRITES = ("append", "draw", "tail")
NO_COUNTS_KEY = ("this witness was started without --counts-key, so it makes no draw (each draw statement commits "
                 "to the counts it was made on): its administrator makes the key where the HMAC key is (release "
                 "witness counts-key --out FILE) and restarts it with release witness serve ... --counts-key FILE")
NO_RULES = ("this witness was started without --rules, so it makes no draw (it draws only the measurements the "
            "organisation's trusted rules declare, charged to the caps they give): its administrator restarts it "
            "with release witness serve ... --rules DIR, the organisation's trusted rules folder")


def _marks(entries: object) -> list[dict[str, Any]]:
    """The request's entries, checked for shape (seq order, hex hashes, the body and MAC); Refused otherwise."""
    if not isinstance(entries, list) or len(entries) > 1_000_000:
        raise Refused("an append carries a list of entries")
    marks: list[dict[str, Any]] = []
    for item in entries:
        if not (isinstance(item, dict) and isinstance(item.get("seq"), int) and item["seq"] >= 1
                and all(isinstance(item.get(k), str) and _HEX64.match(item[k]) for k in ("hash", "prev"))
                and isinstance(item.get("kind"), str) and len(item["kind"]) <= 32
                and isinstance(item.get("body"), str) and len(item["body"]) <= 1_000_000
                and (item.get("mac") is None or isinstance(item["mac"], str) and len(item["mac"]) <= 200)):
            raise Refused("an entry is not {seq, hash, prev, kind, body, mac}")
        marks.append({k: item.get(k) for k in ("seq", "hash", "prev", "kind", "body", "mac")})
    if any(b["seq"] != a["seq"] + 1 for a, b in pairwise(marks)):
        raise Refused("an append's entries are not consecutive")
    return marks


def _charge(request: Mapping[str, Any]) -> dict[str, Any]:
    """The draw request's charge fields, checked for shape and against its inputs; Refused otherwise."""
    charge, inputs = request.get("charge"), request.get("inputs")
    if not isinstance(charge, dict) or not isinstance(inputs, dict) or set(charge) != set(CHARGE_FIELDS):
        raise Refused(f"a draw carries its charge ({', '.join(CHARGE_FIELDS)}) and its inputs")
    rho = charge.get("rho")
    if not (isinstance(rho, (int, float)) and not isinstance(rho, bool) and 0 < rho < float("inf")):
        raise Refused("a draw's charge has no positive rho")
    if not all(isinstance(charge.get(k), str) and len(charge[k]) <= 300
               for k in ("unit", "dataset", "table", "mechanism", "run_id", "measurement_key")):
        raise Refused("a draw's charge names no unit, dataset, table, mechanism, run or measurement key")
    if (charge["table"], charge["mechanism"], charge["data_year"]) != (
            inputs.get("table"), inputs.get("mechanism"), inputs.get("data_year")) \
            or not charge["measurement_key"].startswith(f"{inputs.get('spec_sha256')}:"):
        raise Refused("a draw's charge names another table, mechanism, data year or declaration than its inputs")
    return dict(charge)


def _writers(names: Collection[str]) -> frozenset[int] | None:
    """The uids ``--writer`` names (a user name or a uid; ``any``: None, every account)."""
    if ANY in names:
        return None
    uids = set()
    for name in names or (str(os.geteuid()),):
        if name.isdigit():
            uids.add(int(name))
            continue
        try:
            uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            raise ConfigError("--writer names no user of this system: give a user name, a uid, or 'any'",
                              rule="witness-writer") from None
    return frozenset(uids)


class Witness:
    """The service's answers: a signed head, an append and its signed receipt, a draw and its signed
    statement, the tail a ledger behind it adopts."""

    def __init__(self, folder: Path, key_path: Path, writers: frozenset[int] | None,
                 counts: CountsKey | None = None, declared: Declared | None = None) -> None:
        self.private = load_key(key_path)
        self.key_id = private_key_id(self.private)
        self.store = Store(folder, self.key_id)
        self.writers = writers  # None: any account that can connect
        self.counts = counts    # None: no --counts-key, so no draw (release.witness.counts)
        self.declared = declared  # None: no --rules, so no draw (release.witness.declared)
        self.lock = threading.Lock()

    def _signed(self, statement: dict[str, Any]) -> dict[str, Any]:
        statement = {**statement, "witness_key": self.key_id}
        return {"statement": statement, "signature": sign_bytes(self.private, message(statement))}

    def _fresh(self, reply: dict[str, Any], nonce: str) -> dict[str, Any]:
        """The reply with ``fresh``: the signature that its statement answers ``nonce`` (kept by the
        client, never published, so the nonce a client chose never reaches the manifest)."""
        return {**reply, "fresh": sign_bytes(self.private, fresh_message(reply["signed"]["statement"], nonce))}

    def _head(self) -> dict[str, Any]:
        ledger_id, count, last, unpaid = self.store.head()  # a head is never published: it says when
        return self._signed({"type": HEAD, "ledger_id": ledger_id, "length": count, "head": last, "unpaid": unpaid,
                             "at": utc_now(), "uid": os.geteuid(), "host": socket.gethostname(),
                             "counts_key_id": self.counts.key_id if self.counts else None,
                             "declarations_sha256": self.declared.digest if self.declared else None})

    def _may_write(self, uid: int | None) -> None:
        if self.writers is None:
            return
        if uid is None:
            raise Refused("this witness takes appends and draws only on its Unix socket (TCP carries no uid; "
                          "its administrator serves TCP writes only with --writer any, the lower tier)")
        if uid not in self.writers:
            raise Refused(f"uid {uid} is not a writer of this witness (its administrator names the accounts whose "
                          "builds write the ledger with release witness serve --writer USER)")

    def answer(self, request: object, uid: int | None = None) -> dict[str, Any]:
        """One request's answer; ``uid``: the peer's uid on the Unix socket (None over TCP)."""
        if not isinstance(request, dict) or not isinstance(request.get("nonce"), str) \
                or not _NONCE.match(request["nonce"]):
            return {"ok": False, "refused": "a request is a JSON object with an op and a nonce"}
        nonce, op = request["nonce"], request.get("op")
        try:
            with self.lock:
                if op == "head":
                    return self._fresh({"ok": True, "signed": self._head()}, nonce)
                if op not in WRITES:
                    return {"ok": False, "refused": "unknown op (head, append, draw or tail)"}
                self._may_write(uid)
                ledger_id = request.get("ledger_id")
                if not isinstance(ledger_id, str) or not _HEX64.match(ledger_id):
                    raise Refused(f"{'an' if op == 'append' else 'a'} {op} names its ledger by id")
                return self._fresh({"ok": True, **getattr(self, f"_{op}")(request, ledger_id, uid)}, nonce)
        except Refused as refusal:
            return {"ok": False, "refused": str(refusal)}
        except sqlite3.Error as exc:
            return {"ok": False, "refused": f"the witness's store cannot be used ({type(exc).__name__})"}

    def _append(self, request: Mapping[str, Any], ledger_id: str, uid: int | None) -> dict[str, Any]:
        marks = _marks(request.get("entries"))
        _, last = self.store.append(ledger_id, marks, uid)  # no count: a client could set it by appending
        return {"signed": self._signed({"type": RECEIPT, "ledger_id": ledger_id, "seq": marks[-1]["seq"],
                                        "hash": last})}

    def _draw(self, request: Mapping[str, Any], ledger_id: str, uid: int | None) -> dict[str, Any]:
        from release.stages.noise import record_from_inputs  # OpenDP: loaded when a draw is first asked for

        if self.counts is None:
            raise Refused(NO_COUNTS_KEY)
        counts_key = self.counts
        wanted = request.get("counts_key_id")
        if wanted is not None and wanted != counts_key.key_id:
            named = wanted if isinstance(wanted, str) and re.fullmatch(r"[0-9a-f]{16}", wanted) else "unreadable"
            raise Refused(f"this witness's counts key (id {counts_key.key_id}) is not the one derived from the HMAC "
                          f"key this build uses (id {named}): its administrator makes it again with release witness "
                          "counts-key where the organisation's HMAC key is, and restarts the service with it")
        if self.declared is None:
            raise Refused(NO_RULES)
        declared = self.declared
        marks, charge = _marks(request.get("entries", [])), _charge(request)
        declared.refuse_undeclared(charge, request["inputs"])  # a dict: _charge checked it
        committed: dict[str, str] = {}

        def make() -> dict[str, Any]:
            """The draw, and the commitment to the very counts it is made on (``witness_counts``)."""
            inputs = request.get("inputs")
            try:
                record = record_from_inputs(inputs)
            except ValueError as exc:
                raise Refused(str(exc)) from None
            except ReleaseError as exc:
                raise Refused(f"the draw cannot be made: {exc.message}") from None
            assert isinstance(inputs, dict)  # record_from_inputs checked its shape
            committed.update(counts_key.fields(inputs["spec_sha256"], inputs["data_year"], inputs["counts"]))
            return record

        record, signed = self.store.draw(ledger_id, marks, uid, charge, make, lambda fields: self._signed(
            {"type": DRAW, **fields, "charge": signed_charge(fields["charge"]), **committed}),
            lambda counted: declared.refuse_over_cap(charge, counted))
        return {"record": record, "signed": signed}

    def _tail(self, request: Mapping[str, Any], ledger_id: str, uid: int | None) -> dict[str, Any]:
        first = request.get("from")
        if not isinstance(first, int) or first < 1:
            raise Refused("a tail names the first seq it wants")
        marks, draws = self.store.tail(ledger_id, first)
        return {"signed": self._head(), "entries": marks, "draws": draws}


def load_key(key_path: Path) -> Any:
    """The witness's private key; missing or unreadable: exit 9 (open to other users: ``check_key_file``, 3)."""
    try:
        return load_private_key(key_path)
    except ApprovalError as exc:
        raise EnvironmentProblem(f"the witness key: {exc.message}", file=str(key_path), rule="witness-key") from None


class _Handler(socketserver.StreamRequestHandler):
    timeout = TIMEOUT
    server: _UnixServer | _TCPServer  # either carries the witness that answers

    def handle(self) -> None:
        import json
        try:
            line = self.rfile.readline(MAX_LINE + 1)
        except OSError:
            return
        try:
            request = json.loads(line) if len(line) <= MAX_LINE else None
        except (ValueError, UnicodeDecodeError):
            request = None
        reply = self.server.witness.answer(request, self._peer_uid())
        with suppress(OSError):
            self.wfile.write(json.dumps(reply, separators=(",", ":")).encode("utf-8") + b"\n")


    def _peer_uid(self) -> int | None:
        """The connecting process's uid on the Unix socket (SO_PEERCRED: pid, uid, gid), None over TCP."""
        if self.request.family != socket.AF_UNIX:
            return None
        try:
            _, uid, _ = struct.unpack("3i", self.request.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                    struct.calcsize("3i")))
        except (OSError, struct.error):
            return -1  # unknown: no writer
        return int(uid)


class _Serving:
    """What a server holds for its handlers: the one ``Witness`` that answers every request (``serve``)."""

    witness: Witness


class _UnixServer(_Serving, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TCPServer(_Serving, socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _unix_server(path: Path) -> _UnixServer:
    """Listening on ``path``, in a folder only the witness's account can change. The socket is made
    0666 by the umask around bind, never by a chmod on its path afterwards: a path can be a symlink by
    then (issue #12, 5s-key), and any account may ask (what it is told is signed, its appends checked)."""
    path = path.absolute()
    own_folder(path.parent, "the socket's folder", "witness-socket", 0o755)
    try:
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise ConfigError("the socket path is taken by a file that is not a socket", file=str(path),
                                  rule="witness-socket")
            with socket.socket(socket.AF_UNIX) as probe:
                if probe.connect_ex(str(path)) == 0:
                    raise ConfigError("a witness already listens on this socket", file=str(path),
                                      rule="witness-socket")
            path.unlink()  # a stale socket left by a service that stopped
        previous = os.umask(0o111)
        try:
            return _UnixServer(str(path), _Handler)
        finally:
            os.umask(previous)
    except OSError as exc:
        raise ConfigError(f"the witness cannot listen on this socket ({exc.strerror or type(exc).__name__}): "
                          "give it a path in a folder its account owns", file=str(path), rule="witness-socket") from None


def _tcp_server(port: int) -> _TCPServer:
    try:
        return _TCPServer(("127.0.0.1", port), _Handler)
    except OSError as exc:
        raise EnvironmentProblem(f"the witness cannot listen on 127.0.0.1:{port} "
                                 f"({exc.strerror or type(exc).__name__}): choose another port",
                                 rule="witness-address") from None


def _witness(folder: Path, key_path: Path, writers: frozenset[int] | None,
             counts_path: Path | None = None, rules_dir: Path | None = None) -> Witness:
    """The keys checked as ssh checks a private key, the trusted rules read, then the store in a
    folder only this account changes."""
    check_key_file(key_path)
    counts = load_counts_key(counts_path) if counts_path is not None else None
    if rules_dir is not None:
        check_rules_folder(rules_dir)
    declared = load_declared(rules_dir) if rules_dir is not None else None
    folder = own_folder(folder, "the witness's store folder", "witness-dir", 0o700)
    try:
        return Witness(folder, key_path, writers, counts, declared)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"the witness's store cannot be opened ({type(exc).__name__}): it belongs to the witness's "
                          "account and is writable by it", file=str(folder / STORE), rule="witness-dir") from None


def serve(folder: Path, key_path: Path, socket_path: Path | None = None, port: int | None = None,
          ready: Callable[[str], None] = lambda address: None, writers: Collection[str] = (),
          counts_path: Path | None = None, rules_dir: Path | None = None) -> dict[str, object]:
    """Answer requests until SIGTERM or Ctrl-C; ``ready`` hears the address once listening.
    ``writers``: the accounts (names or uids, or ``any``) that may append and draw; none named: the
    service's own. ``counts_path``: the counts key (``release witness counts-key``); ``rules_dir``:
    the organisation's trusted rules folder, read once here (a policy change takes a restart);
    without either the service answers heads, appends and tails and refuses every draw."""
    import signal
    if (socket_path is None) == (port is None):
        raise ConfigError("give the service one address: --socket PATH or --port N", rule="witness-address")
    allowed = _writers(writers)
    witness = _witness(folder, key_path, allowed, counts_path, rules_dir)
    server: _UnixServer | _TCPServer
    if socket_path is not None:
        server, address = _unix_server(socket_path), str(socket_path)
    else:
        server = _tcp_server(port or 0)
        address = f"127.0.0.1:{server.server_address[1]}"
    server.witness = witness
    previous = signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        ready(address)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        if socket_path is not None:
            with suppress(OSError):
                socket_path.unlink()
    ledger_id, count, _, unpaid = witness.store.head()
    return {"address": address, "store": str(witness.store.path), "key_id": witness.key_id,
            "counts_key_id": witness.counts.key_id if witness.counts else None,
            "declarations_sha256": witness.declared.digest if witness.declared else None,
            "writers": ANY if allowed is None else sorted(allowed), "ledger_id": ledger_id, "entries": count,
            "unpaid_draws": unpaid, "stopped": True}


def void(folder: Path, key_path: Path, first: int) -> dict[str, object]:
    """``release witness void``, run as the witness's account on its store: the entries from seq
    ``first`` on leave the live chain (an allowed writer's junk that no ledger can adopt). The store
    keeps them (append-only: a ``voids`` row); a charge that paid a draw is never voided (exit 6)."""
    witness = _witness(folder, key_path, frozenset())
    try:
        voided = witness.store.void(first, os.geteuid())
    except Refused as refusal:
        raise BudgetError(f"the witness does not void: {refusal}", file=str(witness.store.path),
                          rule="witness-void") from None
    ledger_id, count, _, _ = witness.store.head()
    return {"store": str(witness.store.path), "voided": voided, "ledger_id": ledger_id, "entries": count,
            "next": "the ledger's next write (release witness recover, or any build) appends its own entries there"}


def init_key(key_path: Path, address: str | None = None) -> dict[str, object]:
    """A new witness key pair (private key mode 0600, no passphrase: the service starts unattended)
    and the line an administrator puts in the organisation's privacy.yaml."""
    from release.keys.signing import keygen
    made = keygen(key_path)
    public = one_line(load_key(key_path).public_key())
    where = address or "/run/release-witness/witness.sock"
    return {**made, "privacy_yaml": f"witness: {{service: {where}, public_key: '{public}'}}"}
