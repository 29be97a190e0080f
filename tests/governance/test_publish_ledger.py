"""Publishing a release with noisy tables makes its privacy spend permanent on the ledger.

A draft's spend is replaced when the same year is rebuilt; once the tables are public the
spend can never be taken back, so ``publish`` marks the run published, and refuses when the
ledger no longer holds the run as spent (nothing is copied then)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from conftest import new_signer, trusted_rules
from release.ledger import Ledger
from release.synth import best

YEAR = 2020


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def approved(tmp_path: Path) -> tuple[Path, Path, str]:
    """A BEST bundle (noisy tables) built with its own ledger and signed by one reviewer."""
    raw, out, ledger = tmp_path / "raw", tmp_path / "out", tmp_path / "ledger.sqlite"
    best.write_best(best.generate_best(YEAR, seed=7, first_year=2019), raw)
    code, stdout, stderr = _invoke("best", str(YEAR), "--input", str(raw), "--out", str(out),
                                   "--ledger", str(ledger), "--json")
    assert code == 0, stdout + stderr
    key = new_signer(tmp_path, "A. Reviewer")
    code, stdout, stderr = _invoke("approve", "best", str(YEAR), "--out", str(out), "--reviewer", "A. Reviewer",
                                   "--key", str(key), "--rules", str(trusted_rules(tmp_path)))
    assert code == 0, stdout + stderr
    manifest = json.loads((out / "best" / str(YEAR) / "manifest.json").read_text())
    return out, ledger, str(manifest["privacy"]["run_id"])


def test_publish_marks_the_run_published_and_a_rebuild_then_adds(approved: tuple[Path, Path, str],
                                                                 tmp_path: Path) -> None:
    out, ledger, run_id = approved
    assert Ledger(ledger).status(run_id) == "committed"
    code, stdout, stderr = _invoke("publish", "best", str(YEAR), "--out", str(out), "--to", str(tmp_path / "site"),
                                   "--ledger", str(ledger), "--rules", str(trusted_rules(tmp_path)), "--json")
    assert code == 0, stdout + stderr
    assert json.loads(stdout)["ledger_run"] == run_id and Ledger(ledger).status(run_id) == "published"
    spent_once = sum(u.spent_rho for u in Ledger(ledger).report("best").units)
    code, stdout, stderr = _invoke("best", str(YEAR), "--input", str(tmp_path / "raw"), "--out", str(out),
                                   "--ledger", str(ledger), "--json")
    assert code == 7 and "--supersede" in stderr  # a published year is never replaced by a rebuild
    code, stdout, stderr = _invoke("best", str(YEAR), "--input", str(tmp_path / "raw"), "--out", str(out),
                                   "--ledger", str(ledger), "--json", "--supersede")
    # the published spend stays; the new version either adds to it or is refused by the cap
    assert Ledger(ledger).status(run_id) == "published"
    if code == 0:
        assert sum(u.spent_rho for u in Ledger(ledger).report("best").units) == pytest.approx(2 * spent_once)
    else:
        assert code == 6, stdout + stderr


@pytest.mark.parametrize("break_ledger", ["missing", "other-ledger"], ids=["missing", "run-not-on-ledger"])
def test_publish_refuses_when_the_ledger_does_not_hold_the_spend(approved: tuple[Path, Path, str], tmp_path: Path,
                                                                 break_ledger: str) -> None:
    out, ledger, _ = approved
    if break_ledger == "missing":
        ledger.unlink()
    else:
        shutil.copyfile(ledger, tmp_path / "copy.sqlite")
        ledger.unlink()
        Ledger(ledger)  # a fresh, empty ledger at the same path
    site = tmp_path / "site"
    code, stdout, stderr = _invoke("publish", "best", str(YEAR), "--out", str(out), "--to", str(site),
                                   "--ledger", str(ledger), "--rules", str(trusted_rules(tmp_path)))
    assert code == 7 and "ledger" in stderr and "Traceback" not in stderr
    assert not (site / "best" / str(YEAR)).exists()


def test_an_unreadable_ledger_is_named_without_a_traceback(approved: tuple[Path, Path, str], tmp_path: Path) -> None:
    out, ledger, _ = approved
    ledger.write_bytes(b"not a database" * 100)
    site = tmp_path / "site"
    code, stdout, stderr = _invoke("publish", "best", str(YEAR), "--out", str(out), "--to", str(site),
                                   "--ledger", str(ledger), "--rules", str(trusted_rules(tmp_path)))
    assert code == 6 and f"file {ledger}" in stderr and "rule ledger" in stderr and "Traceback" not in stderr
    assert not (site / "best" / str(YEAR)).exists()


def test_a_failed_swap_gives_the_published_mark_back(approved: tuple[Path, Path, str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from release import publication

    out, ledger, run_id = approved

    def broken(staging: Path, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(publication, "swap_into_place", broken)
    with pytest.raises(OSError):
        publication.publish("best", YEAR, out, tmp_path / "site", ledger, trusted_rules(tmp_path))
    assert Ledger(ledger).status(run_id) == "committed"
    assert not (tmp_path / "site" / "best" / str(YEAR)).exists()
