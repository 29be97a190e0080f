"""The witness service in tests: a real ``release witness serve`` subprocess, run with a key and a
store in a folder of its own (the witness's "account"), which the analyst's commands are never
given; and the forgeries an analyst could stand up at its address instead.

Each test gets a copy of its module's store served by a new subprocess with the module's key, so
what one test does to its witness (append, refuse) never reaches another's.
"""

from __future__ import annotations

import json
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from conftest import name_witness

from release.keys.signing import load_private_key, one_line


class WitnessServer:
    """``release witness serve --dir STORE --key KEY --socket SOCKET`` as a subprocess."""

    def __init__(self, account: Path, socket_dir: Path | None = None, rules: Path | None = None) -> None:
        self.account = account      # holds witness.key and store/: the witness's, never the analyst's
        self.socket_dir = socket_dir or Path(tempfile.mkdtemp(prefix="rw-", dir="/tmp"))  # AF_UNIX: short path
        self.rules = rules          # the organisation's trusted rules folder it draws by (serve --rules)
        self.process: subprocess.Popen[str] | None = None

    @property
    def key(self) -> Path:
        return self.account / "witness.key"

    @property
    def counts_key(self) -> Path:
        return self.account / "counts.key"

    @property
    def address(self) -> str:
        return str(self.socket_dir / "witness.sock")

    @property
    def public_key(self) -> str:
        return one_line(load_private_key(self.key).public_key())

    def start(self, *more: str, counts: bool = True, rules: Path | None = None) -> WitnessServer:
        """Serve (``more``: further options, e.g. ``--writer UID``) until ``stop``, with the account's
        counts key when it has one (``new_account`` makes it) unless ``counts`` is False, and with the
        trusted rules folder ``rules`` (kept for later starts) when one is given (read once, at start:
        a test that changes the policy restarts the service, as its administrator would)."""
        self.rules = rules or self.rules
        counts_key = ["--counts-key", str(self.counts_key)] if counts and self.counts_key.exists() else []
        trusted = ["--rules", str(self.rules)] if self.rules is not None else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "release", "witness", "serve", "--dir", str(self.account / "store"),
             "--key", str(self.key), *counts_key, *trusted, "--socket", self.address, *more],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if "listening on" not in line:
            self.process.wait(timeout=10)
            raise RuntimeError(f"the witness did not start: {line} {self.process.stderr.read() if self.process.stderr else ''}")
        return self

    def stop(self) -> None:
        """SIGTERM to this test's own server (by its pid), then wait for it and close its pipes."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
            self.process.communicate(timeout=20)
        self.process = None

    def restart(self, rules: Path | None = None) -> WitnessServer:
        """Stopped and started again (after a policy change: it reads its rules at start)."""
        self.stop()
        return self.start(rules=rules)

    def copy(self, account: Path) -> WitnessServer:
        """A new server over a copy of this one's store, with the same key (the harness is the
        witness's administrator here; the analyst's commands still never see the key); it serves
        the rules its ``start`` is given (or none)."""
        account.mkdir(mode=0o700, parents=True)
        shutil.copy2(self.key, account / "witness.key")
        if self.counts_key.exists():
            shutil.copy2(self.counts_key, account / "counts.key")
        shutil.copytree(self.account / "store", account / "store")
        return WitnessServer(account)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.socket_dir, ignore_errors=True)


def new_account(folder: Path, socket_dir: Path | None = None) -> WitnessServer:
    """A witness account with a new key pair (``release witness init-key``), the counts key derived
    from the session's HMAC key (``release witness counts-key``, the administrator holding it) and an
    empty store."""
    from release.keys.hmac import load_or_create_key
    from release.witness.counts import make_key_file
    from release.witness.service import init_key
    folder.mkdir(mode=0o700, parents=True)
    init_key(folder / "witness.key")
    load_or_create_key()  # the session's HMAC key, as the first build would make it
    make_key_file(folder / "counts.key")
    return WitnessServer(folder, socket_dir)


def pin_service(rules: Path, address: str, public_key: str) -> Path:
    """privacy.yaml's ``witness:`` set to the service, as an administrator pins it."""
    return name_witness(rules, f"{{service: {address}, public_key: '{public_key}'}}")


class CannedServer:
    """What an analyst can stand up at the witness's address (in a private mount namespace, or
    while the service is down): answers every request with one fixed line, e.g. a head statement
    the real witness signed earlier."""

    def __init__(self, address: str, answer: dict) -> None:
        line = (json.dumps(answer) + "\n").encode("utf-8")

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.rfile.readline()
                self.wfile.write(line)

        Path(address).unlink(missing_ok=True)
        self.server = socketserver.ThreadingUnixStreamServer(address, Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        self.address = address

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        Path(self.address).unlink(missing_ok=True)


def wait_gone(address: str, timeout: float = 10.0) -> None:
    """Until the stopped server's socket file is gone (it removes it on the way out)."""
    end = time.monotonic() + timeout
    while Path(address).exists() and time.monotonic() < end:
        time.sleep(0.05)


def declared_draw(rules: Path, year: int, table: str, key: str = "drawn-by-test") -> tuple[dict, dict]:
    """(charge, inputs) of a direct draw that is exactly the measurement the trusted ``rules`` declare
    for FIOE ``table`` in ``year`` (its unit, rho, declaration hash and sensitivity), on counts a
    writer invents: what the service still draws for any writer (it never sees the raw export)."""
    from release.audit.trusted_statement import trusted_bounds
    from release.config.tables import load_tables_policy

    spec = next(s for s in load_tables_policy(rules / "fioe_tables.yaml").tables if s.name == table)
    digest, bounds, length = trusted_bounds("fioe", spec, year)
    inputs = {"table": table, "mechanism": spec.mechanism, "budget": spec.rho, "l1": bounds.l1,
              "l2_squared": bounds.l2_squared, "data_year": year, "spec_sha256": digest, "counts": [3] * length}
    charge = {"unit": spec.privacy_unit_name, "dataset": "fioe", "table": table, "data_year": year,
              "release_year": year, "mechanism": spec.mechanism, "rho": spec.rho_spent, "epsilon": None,
              "run_id": "r" * 32, "measurement_key": f"{digest}:{key}"}
    return charge, inputs
