"""The review packet in a real headless Chromium: it renders, and it fetches nothing.

Chromium itself talks to Google (component updates, time, accounts) whatever the flags;
``--host-resolver-rules`` sends all of it nowhere, and the net log tells the page's own
requests apart: their network isolation key is the ``file://`` page. A control page that
does load remote images proves the net-log check can see such requests.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from bundlekit import TABLE, Built

CHROMIUM = shutil.which("chromium")
WIDTH, HEIGHT = 1200, 1800
pytestmark = [pytest.mark.browser]  # `make test` installs chromium (make browser): missing, these fail, never skip


def _chromium(page: Path, work: Path, *action: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars",
         '--host-resolver-rules=MAP * ~NOTFOUND', f"--user-data-dir={work / 'profile'}",
         f"--window-size={WIDTH},{HEIGHT}", *action, page.resolve().as_uri()],
        capture_output=True, timeout=120, check=True)


def _page_requests(net_log: Path) -> list[str]:
    """URLs the page itself asked for (not Chromium's own background traffic)."""
    text = net_log.read_text(encoding="utf-8").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # Chromium killed before it closed the array
        log = json.loads(text.rstrip(",") + "]}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start_job and "file://" in str(params.get("network_isolation_key", "")) + str(
                params.get("site_for_cookies", "")):
            urls.append(str(params.get("url")))
    return [u for u in urls if not u.startswith(("file:", "data:"))]


def _png(path: Path) -> tuple[int, int, int]:
    """(width, height, inflated bytes) of a PNG, checked with the stdlib only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    channels = {2: 3, 6: 4}[colour]
    inflated = zlib.decompress(idat)
    assert depth == 8 and len(inflated) == height * (1 + width * channels)
    return width, height, len(inflated)


@pytest.fixture()
def packet(make_bundle) -> Path:
    built: Built = make_bundle(tables={"stops": TABLE})
    return built.bundle / "review" / "index.html"


def test_packet_renders_with_its_summary(packet: Path, tmp_path: Path) -> None:
    dom = _chromium(packet, tmp_path, "--dump-dom").stdout.decode("utf-8")
    assert "<h2>Summary</h2>" in dom
    assert "No blocking finding." in dom
    assert "<mark>[PERSON 1]</mark>" in dom
    assert "<script" not in dom  # the escaped narrative stayed text


def test_packet_screenshot_is_not_blank(packet: Path, tmp_path: Path) -> None:
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    _chromium(packet, tmp_path / "a", f"--screenshot={tmp_path / 'packet.png'}")
    _chromium(blank, tmp_path / "b", f"--screenshot={tmp_path / 'blank.png'}")
    assert _png(tmp_path / "packet.png")[:2] == (WIDTH, HEIGHT)
    packet_size, blank_size = ((tmp_path / n).stat().st_size for n in ("packet.png", "blank.png"))
    assert packet_size > 20_000 and packet_size > 5 * blank_size


@pytest.mark.parametrize("page", ["packet", "control"], ids=["review-packet", "control-page-with-remote-images"])
def test_packet_makes_no_network_request(packet: Path, tmp_path: Path, page: str) -> None:
    target = packet
    if page == "control":
        target = tmp_path / "control.html"
        target.write_text('<!DOCTYPE html><html><body><h2>Summary</h2><img src="http://example.invalid/a.png">'
                          '<div style="background:url(https://example.invalid/b.png)">x</div></body></html>')
    net_log = tmp_path / "net-log.json"
    _chromium(target, tmp_path, f"--log-net-log={net_log}", "--dump-dom")
    requests = _page_requests(net_log)
    if page == "packet":
        assert requests == []
    else:
        assert sorted(requests) == ["http://example.invalid/a.png", "https://example.invalid/b.png"]
