"""What every command's ``--help`` says, kept apart from the option wiring in ``release.cli``.

``HELP`` is each command's description (click shows its first sentence in the command list);
``EXAMPLES`` is what a user types for the command's common cases, in the order of a typical
year (README.md). ``texts`` hands both to click; the ``\\b`` line that starts the epilog keeps
click from re-wrapping the example lines into a paragraph.
"""

from __future__ import annotations

from typing import TypedDict

RULES = "--rules /srv/release-rules"
RAW = "/secure/exports/fioe-2020"
KEY = "--key ~/keys/counsel.key"

HELP: dict[str, str] = {
    "main": "Privacy-preserving releases of police transparency data.\n\n"
            "Build a draft bundle with `release DATASET YEAR` (e.g. `release fioe 2020`); review, decide, approve, "
            "publish, verify and audit it with the other commands; `release doctor` checks this machine first. "
            "Exit codes: 0 ok, 1 internal error, 2 usage, 3 config, 4 input, 5 blocking finding, 6 budget, "
            "7 refused, 8 audit or verify failure, 9 environment. Options also come from the environment: "
            "RELEASE_OUT, RELEASE_RULES, RELEASE_EXPECTATIONS and RELEASE_LEDGER for every command, any other "
            "as RELEASE_<COMMAND>_<OPTION> (e.g. RELEASE_AUDIT_RAW_DIR).",
    "DATASET": "Build the draft {dataset} release bundle for YEAR.\n\n"
               "Writes OUT/{dataset}/YEAR/ (public/, manifest.json, redaction_log.jsonl, review/). Without --input "
               "the bundled synthetic sample is used. A published YEAR is never replaced: --supersede builds a new "
               "version in its own folder. YEAR may be a range (2011-2020): --input then holds one export folder per "
               "year (EXPORTS/2011, ...), every year is checked before the first is built, and each is built "
               "as its own release, one after the other.",
    "scan": "Scan a CSV column for residual PII and report findings by type (never the text).",
    "review": "Show where the review packet (review/index.html) of a bundle is, and what is pending.",
    "decide": "Sign a reviewer's decision on a redaction (--log-id) or a blocking finding (--finding); the next "
              "build applies it if the key is a trusted signer whose role may decide.",
    "keygen": "Create an Ed25519 signing key pair for approving releases and signing decisions.",
    "approve": "Sign the bundle's manifest hash with a trusted signer's key; refused for an untrusted key, a bundle "
               "with a blocking finding or changed files, or a policy other than the bundle's; with --raw, also "
               "unless the bundle replays from the raw export cell by cell (the audit's raw-export checks).",
    "publish": "Copy public/ with its manifest, approvals and SHA256SUMS to TO/DATASET/YEAR and make the release's "
               "privacy spend permanent on the ledger; refused without the trusted approvals the policy requires, "
               "if any file changed since, if TO overlaps the releases folder or the bundle, if TO already holds "
               "another release, or if the ledger lacks the spend.",
    "verify": "Verify a published copy (e.g. on a portal): every file against its manifest and SHA256SUMS, and "
              "trusted approvals of that manifest meeting the policy. Exits 8 when anything differs.",
    "audit": "Verify a bundle independently: hashes, log chain and trailer MAC, trusted approvals, residual PII, "
             "columns, cells, budget, identifier pseudonyms (recomputed with --raw). Prints a table of checks; "
             "exits 8 when a check fails or could not run "
             "(unless --allow-unverified), 4 when there is no such bundle.",
    "budget": "Privacy budget spent and left, per year and privacy unit, over all years.",
    "list": "Datasets, years released, status and budget (approvals counted against the policy).",
    "sample": "Write a synthetic raw export (every name and value fictitious) for trying the tool.",
    "doctor": "Check this machine before a release: the spaCy model and its fingerprint, the PII engine, the "
              "HMAC key (its key id, never the key), the rules and suites in use and where they come from, the "
              "privacy ledger, Ray for --engine ray (with --address: every node of that cluster), and a browser for "
              "review --open. One line per check; works offline. Exits 0 when "
              "all is well (warnings allowed), else with the first failed check's code: 9 model, key or Ray, "
              "3 rules or suites, 6 ledger.",
    "witness": "The privacy ledger's witness service, run by an administrator under an account of its own: it "
               "alone keeps its append-only record of the ledger's chain, makes every noisy draw and signs what it "
               "holds, so an analyst can neither roll the ledger back, draw on a copy unseen nor charge a draw made "
               "elsewhere (privacy.yaml pins its address and public key).",
    "witness-init-key": "Create the witness's Ed25519 key pair (private key mode 0600, kept by the witness's "
                        "account only) and print the privacy.yaml line that pins it.",
    "witness-counts-key": "Derive the witness's counts key from the organisation's HMAC key (RELEASE_HMAC_KEY or "
                          "its key file, as builds use it) and write it to a new file, mode 0600; prints its key id, "
                          "never the key. The service (serve --counts-key FILE) commits each draw statement to the "
                          "counts it drew on under it, and release audit --raw recounts them.",
    "witness-serve": "Run the witness service on a Unix socket (or TCP on 127.0.0.1) until stopped: it appends the "
                     "ledger's entries to its store in --dir, refusing a rolled-back or forked chain, and signs "
                     "receipts and fresh heads with --key. It refuses a key other accounts can read or write, "
                     "and a key, store or socket folder another account could change (the socket's folder is "
                     "its own, e.g. /run/release-witness 0755, never straight in /tmp). It makes every noisy "
                     "draw itself (OpenDP), records it before answering, refuses a new draw while one is unpaid, "
                     "one that is not a measurement the trusted rules in --rules declare (read once at start: "
                     "restart it after a policy change), one whose charge would pass its unit's cap in their "
                     "privacy.yaml (summed over its own draws and the charges adopted before its anchor; a cap "
                     "entry a writer appends counts for nothing), and a charge that pays none of its draws; each "
                     "draw statement commits to the counts drawn on under --counts-key (without it or without "
                     "--rules: heads, appends and tails, no draw). Only the --writer accounts (default: its own; read "
                     "from the Unix socket's peer credentials) may append and draw; over TCP only --writer any.",
    "witness-recover": "Have the privacy ledger adopt what its witness service holds and the ledger lacks: entries "
                       "of a write cut off before its commit (checked against the chain and, with the release key, "
                       "their MACs) and draws never charged (charged now: a recovered charge stays charged). Any "
                       "build, approval or publication does the same first; this reports what was adopted (exit 0, "
                       "also when there is nothing to do).",
    "witness-void": "Run as the witness's account, on its store: take the entries from --from SEQ on out of the "
                    "live chain (an allowed writer's junk that no ledger can adopt: its MAC does not verify). The "
                    "store keeps them (append-only); a charge that paid a draw is never voided (exit 6), so a void "
                    "cannot free budget.",
}

EXAMPLES: dict[str, list[str]] = {
    "main": ["release doctor " + RULES,
             f"release fioe 2020 --input {RAW} {RULES}",
             "release review fioe 2020 --open " + RULES,
             f"release approve fioe 2020 {KEY} {RULES}",
             "release publish fioe 2020 --to /srv/open-data " + RULES,
             f"release audit fioe 2020 --raw {RAW} {RULES}"],
    "DATASET": ["release {dataset} 2020                     # the bundled synthetic sample",
                "release {dataset} 2020 --input /secure/exports/{dataset}-2020 " + RULES,
                "RELEASE_OUT=/srv/releases release {dataset} 2020 --input /secure/exports/{dataset}-2020",
                "release {dataset} 2020 --input /secure/exports/{dataset}-2020-fixed --supersede   # a correction",
                "release {dataset} 2011-2020 --input /secure/exports/{dataset}   # one folder per year: 2011/ ... 2020/",
                "release {dataset} 2020 --input /secure/exports/{dataset}-2020 --engine ray --address ray://head:10001 "
                "--jobs 32   # on a Ray cluster (pip install 'release[ray]')"],
    "scan": ["release scan releases/fioe/2020/public/fioe_2020_contacts.csv --column contact_reason --key fc_num",
             "release scan city_fio.csv --column narrative --roster-column officer --marker XXX --json"],
    "review": ["release review fioe 2020 --open " + RULES],
    "decide": [f'release decide fioe 2020 --log-id 812 --decision keep {KEY} {RULES} --note "street, not a name"',
               f"release decide fioe 2020 --finding F3a9c0d12e4 --decision redact {KEY} {RULES}"],
    "keygen": ['release keygen --out ~/keys/counsel.key --passphrase --name "A. Counsel" --role legal'],
    "approve": [f"release approve fioe 2020 {KEY} {RULES}",
                f"release approve fioe 2020 {KEY} {RULES} --raw {RAW}   # only once it replays from the export"],
    "publish": ["release publish fioe 2020 --to /srv/open-data " + RULES],
    "verify": ["release verify /srv/open-data/fioe/2020 " + RULES],
    "audit": [f"release audit fioe 2020 --raw {RAW} {RULES}    # with the HMAC key",
              "release audit fioe 2020 --no-scan --allow-unverified --json   # quick; names what it skipped",
              f"release audit fioe 2019 --generation rms --raw /secure/exports/fioe-2019-rms {RULES}"
              "   # one part of a split year"],
    "budget": ["release budget fioe", "release budget best --ledger /srv/ledger.sqlite --json"],
    "list": ["release list", "RELEASE_OUT=/srv/releases release list --json"],
    "sample": ["release sample fioe 2020 --out /tmp/fioe-2020 --reports 200",
               "release sample fioe 2017 --out /tmp/fioe-2017   # the RMS's shape (2015-2019); 2013: the legacy file",
               "release sample shootings 2021 --out /tmp/shootings --seed 7"],
    "doctor": ["release doctor", f"release doctor {RULES} --out /srv/releases --json",
               f"release doctor {RULES} --address ray-head.internal:6379   # before --engine ray --address"],
    "witness": ["release witness init-key --out /etc/release-witness/witness.key --socket /run/release-witness/sock",
                "release witness counts-key --out /etc/release-witness/counts.key   # where the HMAC key is",
                "release witness serve --dir /var/lib/release-witness --key /etc/release-witness/witness.key "
                "--counts-key /etc/release-witness/counts.key --rules /srv/release-rules "
                "--socket /run/release-witness/sock --writer analyst",
                "release witness recover " + RULES],
    "witness-init-key": ["release witness init-key --out /etc/release-witness/witness.key "
                         "--socket /run/release-witness/sock"],
    "witness-counts-key": ["RELEASE_HMAC_KEY_FILE=/secure/hmac.key release witness counts-key "
                           "--out /etc/release-witness/counts.key"],
    "witness-serve": ["release witness serve --dir /var/lib/release-witness --key /etc/release-witness/witness.key "
                      "--counts-key /etc/release-witness/counts.key --rules /srv/release-rules "
                      "--socket /run/release-witness/sock",
                      "release witness serve --dir /var/lib/release-witness --key /etc/release-witness/witness.key "
                      "--counts-key /etc/release-witness/counts.key --rules /srv/release-rules --port 8765",
                      "release witness serve --dir /var/lib/release-witness --key /etc/release-witness/witness.key "
                      "--counts-key /etc/release-witness/counts.key --rules /srv/release-rules "
                      "--socket /run/release-witness/sock --writer analyst --writer builds"],
    "witness-recover": ["release witness recover " + RULES, "release witness recover --json"],
    "witness-void": ["release witness void --dir /var/lib/release-witness --key /etc/release-witness/witness.key "
                     "--from 42"],
}


class Texts(TypedDict):
    """What click's command decorator takes from here: the help, and the examples as its epilog."""

    help: str
    epilog: str


def texts(command: str, dataset: str = "") -> Texts:
    """``help`` and ``epilog`` for click's command decorator."""
    examples = "\n".join(f"  {line.format(dataset=dataset)}" for line in EXAMPLES[command])
    return {"help": HELP[command].format(dataset=dataset), "epilog": f"\b\nExamples:\n{examples}"}
