"""The review workspace's web server: the only module importing Flask and Werkzeug.

Security, in the order a request meets it:

- it listens on 127.0.0.1 only (no option changes that) and answers only requests whose
  Host is that address and port, so a DNS-rebinding page cannot reach it;
- the URL printed at start carries a one-time token: its first use sets an HttpOnly,
  SameSite=Strict session cookie and redirects to a clean URL; any later use, and every
  request without the cookie, is refused (403);
- every POST needs the session's CSRF token in ``X-CSRF-Token``, a JSON body and, when the
  browser sends one, the server's own Origin (403 otherwise);
- every answer carries a strict Content-Security-Policy (own scripts and styles only, no
  inline code, no fetch elsewhere), ``no-store`` so the removed texts of ``--raw`` never reach
  the browser's disk cache, and ``no-referrer``.

Nothing is logged per request: Werkzeug's request log is silenced and errors answer with
their class and exit code only (a message built from names, never a value).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, abort, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Response as WerkzeugResponse

from release.errors import ReleaseError
from release.review.workspace import Workspace

HOST = "127.0.0.1"
SESSION_COOKIE = "review_session"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
_HERE = Path(__file__).resolve().parent


class _QuietHandler(WSGIRequestHandler):
    """No request lines (paths carry item ids and the one-time token) and no error bodies in logs."""

    def log(self, type: str, message: str, *args: object) -> None:  # noqa: A002 - Werkzeug's signature
        return None


@dataclass
class Guard:
    """The one-time URL token, the session cookie and the CSRF token of one server run."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token_used: bool = False
    origin: str = ""

    def has_session(self) -> bool:
        return hmac.compare_digest(request.cookies.get(SESSION_COOKIE, ""), self.session)

    def take_token(self, given: str) -> bool:
        if self.token_used or not hmac.compare_digest(given, self.token):
            return False
        self.token_used = True
        return True


def create_app(workspace: Workspace, guard: Guard, on_finish: Callable[[], None] = lambda: None) -> Flask:
    app = Flask(__name__, template_folder=str(_HERE / "templates"), static_folder=str(_HERE / "static"),
                static_url_path="/static")
    app.logger.disabled = True
    lock = threading.Lock()  # one action at a time: decisions append to one file

    @app.before_request
    def check() -> WerkzeugResponse | None:  # ``redirect`` makes werkzeug's response, which Flask sends as it is
        if guard.origin and request.headers.get("Host") != guard.origin.removeprefix("http://"):
            abort(403)
        if request.path == "/" and "token" in request.args:
            if not guard.take_token(request.args.get("token", "")):
                abort(403)
            response = redirect("/", code=303)
            response.set_cookie(SESSION_COOKIE, guard.session, httponly=True, samesite="Strict", path="/")
            return response
        if not guard.has_session():
            abort(403)
        if request.method == "POST":
            sent_origin = request.headers.get("Origin")
            if (not hmac.compare_digest(request.headers.get("X-CSRF-Token", ""), guard.csrf)
                    or (sent_origin is not None and sent_origin != guard.origin) or not request.is_json):
                abort(403)
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        return response

    @app.errorhandler(403)
    def forbidden(_: object) -> tuple[Response, int]:
        return Response("forbidden\n", mimetype="text/plain"), 403

    @app.errorhandler(ReleaseError)
    def refused(error: ReleaseError) -> tuple[Response, int]:
        return jsonify(error=type(error).__name__, message=error.one_line(), exit_code=error.exit_code), 400

    @app.errorhandler(Exception)
    def internal(error: Exception) -> tuple[Response, int] | HTTPException:
        if isinstance(error, HTTPException):
            return error
        return jsonify(error="internal error", kind=type(error).__name__), 500

    @app.get("/")
    def page() -> str:
        with lock:
            return render_template("workspace.html", w=workspace, s=workspace.summary, f=workspace.facts,
                                   state=workspace.state(), csrf=guard.csrf)

    @app.get("/api/state")
    def state() -> Response:
        with lock:
            return jsonify(workspace.state())

    def _body() -> dict[str, str]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(400)
        return {k: str(v) for k, v in body.items()}

    @app.post("/api/decide")
    def decide() -> Response:
        body = _body()
        with lock:
            workspace.decide(body.get("item", ""), body.get("decision", ""), body.get("note", ""))
            return jsonify(workspace.state())

    @app.post("/api/bulk")
    def bulk() -> Response:
        body = _body()
        with lock:
            count = workspace.bulk(body.get("rule", ""), body.get("decision", ""))
            return jsonify({**workspace.state(), "decided": count})

    @app.post("/api/reviewed")
    def reviewed() -> Response:
        body = _body()
        with lock:
            workspace.acknowledge(body.get("item", ""), body.get("reviewed", "true") == "true")
            return jsonify(workspace.state())

    @app.post("/api/approve")
    def approve() -> Response:
        body = _body()
        with lock:
            result = workspace.approve(body.get("note", ""))
            return jsonify({**workspace.state(), "approval": {k: result[k] for k in
                                                            ("reviewer", "role", "key_id", "manifest_sha256")}})

    @app.post("/api/finish")
    def finish() -> Response:
        threading.Thread(target=on_finish, daemon=True).start()
        return jsonify({"finished": True})

    return app


def serve(workspace: Workspace, port: int, ready: Callable[[dict[str, object]], None]) -> dict[str, object]:
    """Serve until the reviewer finishes (or Ctrl-C); ``ready`` gets the one-time URL first."""
    logging.getLogger("werkzeug").disabled = True
    guard = Guard()
    holder: dict[str, object] = {}
    app = create_app(workspace, guard, lambda: holder["server"].shutdown())  # type: ignore[attr-defined]
    try:  # Werkzeug prints and exits when it cannot bind: try the port first
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is free
            probe.bind((HOST, port))
        server = make_server(HOST, port, app, threaded=True, request_handler=_QuietHandler)
    except (OSError, SystemExit):
        from release.errors import EnvironmentProblem
        raise EnvironmentProblem(f"cannot listen on {HOST} port {port} (in use?)", rule="review-serve") from None
    holder["server"] = server
    guard.origin = f"http://{HOST}:{server.server_port}"
    ready({"url": f"{guard.origin}/?token={guard.token}", "host": HOST, "port": server.server_port})
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return {"dataset": workspace.dataset, "year": workspace.year, "items": len(workspace.items),
            "reviewed": workspace.reviewed_count(), "pending_decisions": workspace.pending,
            "approved": workspace.approved_now}
