"""The ledger's witness service (``release witness serve``): an append-only record of the privacy
ledger's chain that another account keeps, signing what it holds with a key only that account has.

The folder witness (``release.witness_folder``) is written by the analyst's own builds, so its
writer can forge it: rewrite the files it owns, or mount a copy over its path in a private
namespace and draw there (issue #12, attacks 2f-rw, 2f-ns). Here the analyst's process only
*asks*: the store (``witness.sqlite`` in ``--dir``) and the key (``--key``) belong to the
service's account, and every answer that vouches for something is a statement signed with that
key (``release.witness_protocol``), which the organisation's ``privacy.yaml`` pins.

The store anchors one ledger (its id, the hash of its first entry) and holds one mark per entry
(seq, hash, prev, kind). An append is refused when it names another ledger, when a seq it
already holds comes with another hash (a rolled-back ledger, or a copy another run extended
first), when it leaves a gap, or when an entry does not follow the one before it; re-sending a
mark it holds is harmless. SQLite triggers refuse UPDATE and DELETE, one lock orders the
appends, and each append commits before its receipt is signed.
"""

from __future__ import annotations

import os
import re
import socket
import socketserver
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

from release.approvals import load_private_key, one_line, private_key_id, sign_bytes, utc_now
from release.errors import ApprovalError, ConfigError, EnvironmentProblem
from release.ledger_entries import GENESIS
from release.witness_places import check_key_file, own_folder
from release.witness_protocol import HEAD, MAX_LINE, RECEIPT, TIMEOUT, message

STORE = "witness.sqlite"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NONCE = re.compile(r"^[0-9A-Za-z_-]{16,128}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS marks (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, prev TEXT NOT NULL,
                                  kind TEXT NOT NULL, at TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS marks_no_update BEFORE UPDATE ON marks
    BEGIN SELECT RAISE(ABORT, 'the witness is append-only'); END;
CREATE TRIGGER IF NOT EXISTS marks_no_delete BEFORE DELETE ON marks
    BEGIN SELECT RAISE(ABORT, 'the witness is append-only'); END;
CREATE TRIGGER IF NOT EXISTS meta_no_update BEFORE UPDATE ON meta
    BEGIN SELECT RAISE(ABORT, 'the witness is append-only'); END;
CREATE TRIGGER IF NOT EXISTS meta_no_delete BEFORE DELETE ON meta
    BEGIN SELECT RAISE(ABORT, 'the witness is append-only'); END;
"""


class Refused(Exception):
    """An append the witness does not take (the message says why; it never carries a value)."""


class Store:
    """The witness's own append-only record of one ledger's chain."""

    def __init__(self, folder: Path, key_id: str) -> None:
        self.path = folder / STORE
        with closing(sqlite3.connect(self.path, timeout=60)) as db:
            db.executescript(_SCHEMA)  # idempotent; executescript manages its own transaction
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE name = 'key_id'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('key_id', ?)", (key_id,))
            elif row[0] != key_id:
                raise ConfigError("this witness store was kept under another key: serve it with that key (a "
                                  "new key is a new witness, with a new store and a new pin in privacy.yaml)",
                                  file=str(self.path), rule="witness-key")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=60, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @staticmethod
    def _state(db: sqlite3.Connection) -> tuple[str | None, int, str]:
        ledger = db.execute("SELECT value FROM meta WHERE name = 'ledger_id'").fetchone()
        last = db.execute("SELECT seq, hash FROM marks ORDER BY seq DESC LIMIT 1").fetchone()
        return (ledger[0] if ledger else None), (last[0] if last else 0), (last[1] if last else GENESIS)

    def head(self) -> tuple[str | None, int, str | None]:
        """(the ledger it anchors, how many entries it holds, the last one's hash)."""
        with self._transaction() as db:
            ledger_id, count, last = self._state(db)
        return ledger_id, count, (last if count else None)

    def append(self, ledger_id: str, marks: Sequence[Mapping[str, Any]]) -> tuple[int, str]:
        """Hold ``marks`` (in seq order); (entries held now, the hash of the last mark sent)."""
        if not marks:
            raise Refused("an append names no entry")
        with self._transaction() as db:
            anchored, count, last = self._state(db)
            if anchored is None:
                first = marks[0]
                if first["seq"] != 1 or first["hash"] != ledger_id or first["prev"] != GENESIS:
                    raise Refused("the witness holds nothing yet: the first append starts at the ledger's entry 1, "
                                  "whose hash is the ledger's id")
                db.execute("INSERT INTO meta VALUES ('ledger_id', ?)", (ledger_id,))
            elif anchored != ledger_id:
                raise Refused("the witness anchors another ledger (its ledger id differs): this is not the "
                              "authoritative ledger")
            for mark in marks:
                seq = mark["seq"]
                if seq <= count:
                    held = db.execute("SELECT hash FROM marks WHERE seq = ?", (seq,)).fetchone()
                    if held is None or held[0] != mark["hash"]:
                        raise Refused(f"the witness holds ledger entry {seq} already, with another hash: this "
                                      "ledger was rolled back, or is a copy another run appended to first")
                    continue
                if seq != count + 1:
                    raise Refused(f"ledger entry {seq} leaves a gap: the witness holds entries 1..{count}")
                if mark["prev"] != last:
                    raise Refused(f"ledger entry {seq} does not follow the entry the witness holds before it")
                db.execute("INSERT INTO marks VALUES (?,?,?,?,?)", (seq, mark["hash"], mark["prev"], mark["kind"],
                                                                   utc_now()))
                count, last = seq, mark["hash"]
        return count, str(marks[-1]["hash"])


def _marks(entries: object) -> list[dict[str, Any]]:
    """The request's entries, checked for shape (seq order, hex hashes); Refused otherwise."""
    if not isinstance(entries, list) or len(entries) > 1_000_000:
        raise Refused("an append carries a list of entries")
    marks = []
    for item in entries:
        if not (isinstance(item, dict) and isinstance(item.get("seq"), int) and item["seq"] >= 1
                and all(isinstance(item.get(k), str) and _HEX64.match(item[k]) for k in ("hash", "prev"))
                and isinstance(item.get("kind"), str) and len(item["kind"]) <= 32):
            raise Refused("an entry is not {seq, hash, prev, kind}")
        marks.append({k: item[k] for k in ("seq", "hash", "prev", "kind")})
    if any(b["seq"] != a["seq"] + 1 for a, b in zip(marks, marks[1:])):
        raise Refused("an append's entries are not consecutive")
    return marks


class Witness:
    """The service's answers: a signed head, or an append and its signed receipt."""

    def __init__(self, folder: Path, key_path: Path) -> None:
        self.private = load_key(key_path)
        self.key_id = private_key_id(self.private)
        self.store = Store(folder, self.key_id)
        self.lock = threading.Lock()

    def _signed(self, statement: dict[str, Any]) -> dict[str, Any]:
        statement = {**statement, "witness_key": self.key_id, "at": utc_now()}
        return {"ok": True, "signed": {"statement": statement,
                                       "signature": sign_bytes(self.private, message(statement))}}

    def answer(self, request: object) -> dict[str, Any]:
        if not isinstance(request, dict) or not isinstance(request.get("nonce"), str) \
                or not _NONCE.match(request["nonce"]):
            return {"ok": False, "refused": "a request is a JSON object with an op and a nonce"}
        nonce = request["nonce"]
        try:
            with self.lock:
                if request.get("op") == "head":
                    ledger_id, count, last = self.store.head()
                    return self._signed({"type": HEAD, "ledger_id": ledger_id, "length": count, "head": last,
                                         "nonce": nonce, "uid": os.geteuid(), "host": socket.gethostname()})
                if request.get("op") == "append":
                    ledger_id = request.get("ledger_id")
                    if not isinstance(ledger_id, str) or not _HEX64.match(ledger_id):
                        raise Refused("an append names its ledger by id")
                    marks = _marks(request.get("entries"))
                    count, last = self.store.append(ledger_id, marks)
                    return self._signed({"type": RECEIPT, "ledger_id": ledger_id, "seq": marks[-1]["seq"],
                                         "hash": last, "count": count, "nonce": nonce})
        except Refused as refusal:
            return {"ok": False, "refused": str(refusal)}
        except sqlite3.Error as exc:
            return {"ok": False, "refused": f"the witness's store cannot be used ({type(exc).__name__})"}
        return {"ok": False, "refused": "unknown op (head or append)"}


def load_key(key_path: Path) -> Any:
    """The witness's private key; missing or unreadable: exit 9 (open to other users: ``check_key_file``, 3)."""
    try:
        return load_private_key(key_path)
    except ApprovalError as exc:
        raise EnvironmentProblem(f"the witness key: {exc.message}", file=str(key_path), rule="witness-key") from None


class _Handler(socketserver.StreamRequestHandler):
    timeout = TIMEOUT

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
        reply = self.server.witness.answer(request)  # type: ignore[attr-defined]
        with suppress(OSError):
            self.wfile.write(json.dumps(reply, separators=(",", ":")).encode("utf-8") + b"\n")


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
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


def _witness(folder: Path, key_path: Path) -> Witness:
    """The key checked as ssh checks a private key, then the store in a folder only this account changes."""
    check_key_file(key_path)
    folder = own_folder(folder, "the witness's store folder", "witness-dir", 0o700)
    try:
        return Witness(folder, key_path)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"the witness's store cannot be opened ({type(exc).__name__}): it belongs to the witness's "
                          "account and is writable by it", file=str(folder / STORE), rule="witness-dir") from None


def serve(folder: Path, key_path: Path, socket_path: Path | None = None, port: int | None = None,
          ready: Callable[[str], None] = lambda address: None) -> dict[str, object]:
    """Answer heads and appends until SIGTERM or Ctrl-C; ``ready`` hears the address once listening."""
    import signal
    if (socket_path is None) == (port is None):
        raise ConfigError("give the service one address: --socket PATH or --port N", rule="witness-address")
    witness = _witness(folder, key_path)
    server: socketserver.BaseServer = (_unix_server(socket_path) if socket_path is not None
                                       else _tcp_server(port or 0))
    server.witness = witness  # type: ignore[attr-defined]
    address = str(socket_path) if socket_path is not None else f"127.0.0.1:{server.server_address[1]}"  # type: ignore[index]
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
    ledger_id, count, _ = witness.store.head()
    return {"address": address, "store": str(witness.store.path), "key_id": witness.key_id,
            "ledger_id": ledger_id, "entries": count, "stopped": True}


def init_key(key_path: Path, address: str | None = None) -> dict[str, object]:
    """A new witness key pair (private key mode 0600, no passphrase: the service starts unattended)
    and the line an administrator puts in the organisation's privacy.yaml."""
    from release.approvals import keygen
    made = keygen(key_path)
    public = one_line(load_key(key_path).public_key())
    where = address or "/run/release-witness/witness.sock"
    return {**made, "privacy_yaml": f"witness: {{service: {where}, public_key: '{public}'}}"}
