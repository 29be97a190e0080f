"""The bundled sample and the fixtures reuse nothing of the City's real files (kept out of the test run).

The synthetic generator (``release.synth``) was written after reading the City's FIO files, so it must
be shown not to have copied them: no sentence of six words or more and no run of eleven words of a
real narrative appears in a synthetic one, and no real officer's or supervisor's name is on the
synthetic roster. This reads ``../shared/data/boston/`` (the City's 2019, 2020 and 2022 FIO contact
files), which a fresh clone does not have: it lives here, not in ``tests/``, so the test run never
depends on files outside the project and never skips. It prints counts only, never a text.

Run: .venv/bin/python benchmarks/bench_sample_provenance.py [--data DIR] [--seed N]
Exit status: 0 nothing reused; 1 something reused; 4 the City's files are absent.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "boston"
REAL_FILES = ("fieldcontact_2019_rms.csv", "fieldcontact_2020_mark43.csv", "fieldcontact_2022_mark43.csv")
SENTENCE_WORDS, WINDOW_WORDS = 6, 11


def real_rows(data: Path) -> Iterator[dict[str, str]]:
    """The City's contact rows, streamed: only the synthetic side is held in memory."""
    for name in REAL_FILES:
        with (data / name).open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.DictReader(handle)


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text.lower())
    return [re.sub(r"\s+", " ", part).strip() for part in parts if part.strip()]


def windows(text: str, size: int) -> set[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def as_roster(name: str) -> str:
    """A supervisor's ``FIRST LAST`` as the roster writes names: ``LAST, FIRST``."""
    parts = name.strip().upper().split()
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) >= 2 else name.strip().upper()


def reuse(data: Path, seed: int) -> dict[str, int]:
    from release.synth.fioe import generate_fioe

    sample = generate_fioe(2020, seed=seed)
    texts = {row["fc_num"]: row["contact_reason"] for row in sample.contacts}.values()
    ours_sentences = {s for text in texts for s in sentences(text) if len(s.split()) >= SENTENCE_WORDS}
    ours_windows = set().union(*(windows(text, WINDOW_WORDS) for text in texts))
    roster = set(sample.officers)
    found = {"real rows": 0, "synthetic narratives": len(texts), "sentences reused": 0, "11-word runs reused": 0,
             "officer names reused": 0, "synthetic supervisors off the roster": 0}
    real_names: set[str] = set()
    for row in real_rows(data):
        found["real rows"] += 1
        text = row.get("contact_reason") or ""
        found["sentences reused"] += len(ours_sentences.intersection(sentences(text)))
        found["11-word runs reused"] += len(ours_windows & windows(text, WINDOW_WORDS))
        real_names.add((row.get("contact_officer_name") or "").strip().upper())
        real_names.add(as_roster(row.get("supervisor_name") or ""))
    found["officer names reused"] = len(roster & real_names)
    found["synthetic supervisors off the roster"] = len({as_roster(r["supervisor_name"]) for r in sample.contacts}
                                                        - roster)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=2020, help="the generator's seed (2020: the bundled sample's)")
    args = parser.parse_args()
    if not all((args.data / name).is_file() for name in REAL_FILES):
        print(f"the City's FIO files are not in {args.data} (see ../shared/data/boston/SOURCES.md)", file=sys.stderr)
        return 4
    found = reuse(args.data, args.seed)
    width = max(map(len, found))
    for what, count in found.items():
        print(f"{what:<{width}}  {count:>8,}")
    reused = sum(found[k] for k in ("sentences reused", "11-word runs reused", "officer names reused",
                                    "synthetic supervisors off the roster"))
    print("nothing of the City's files is reused" if reused == 0 else f"REUSED: {reused}")
    return 0 if reused == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
