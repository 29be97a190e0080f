"""Parsing a raw file is linear in its size, whatever the cells hold (issue #11, item 9).

A run of 40,000 ``"`` characters once took 146 s, 4x longer each time the run doubled. This
times the loader's reading (``load_csv.read``: decode, strict CSV, limits) and the whole
``load_export`` on one cell of 0.25, 0.5 and 1 MB of quotes (raw ``""`` pairs inside a
quoted field, and a field of bare quotes), with the limits raised so the cell is read
rather than refused; then the refusal itself under the shipped limits; then the street
rule on a run of spaces (its patterns were quadratic in one). Linear time means each
doubling of the input about doubles the time: the ratio column stays near 2 (a quadratic
step gives 4, as the last table shows for spaCy's tokenizer on one word of quotes: the
step that took 146 s on 40,000 quotes, now kept to words of at most 128 characters by
``limits.max_word_chars``). Past 1 MB the parser's field buffer (4 bytes a character)
outgrows the processor's cache on the 2-core machine, and one doubling there can cost more
than twice (the next is back near 2): the standard library's parser is one pass whose
buffer doubles, linear by construction. The machine is shared: run it when it is quiet.

Run: .venv/bin/python benchmarks/bench_parse.py [--repeat N]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from release.config.policy import DatasetPolicy, InputLimits, load_policy  # noqa: E402
from release.errors import InputError  # noqa: E402
from release.stages import load_csv  # noqa: E402
from release.stages.generalize import reads_as_street, strip_house_number  # noqa: E402
from release.stages.load import load_export  # noqa: E402

SIZES = (250_000, 500_000, 1_000_000)
OPEN = InputLimits(max_line_chars=4_000_000, max_cell_chars=4_000_000, max_word_chars=4_000_000)
SPACY_SIZES = (250, 500, 1_000)  # characters: the step the limits bound, for contrast
HEADER = ("fc_num,contact_date,contact_officer,contact_officer_name,supervisor,supervisor_name,street,city,"
          "state,zip,incident_address,stop_duration,circumstance,basis,vehicle_year,vehicle_state,vehicle_model,"
          "vehicle_color,vehicle_style,vehicle_type,vehicle_plate,key_situations,contact_reason,weather")
PERSONS = "fc_num,contact_date,sex,race,age\nFC20000001,2020-03-04 17:25,Male,Black,30\n"


def _export(folder: Path, cell: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    row = ["FC20000001", "2020-03-04 17:25", "", "", "", "", "BLUE HILL AVE", "DORCHESTER", "", "", "", "",
           "Stopped", "Intel", "", "", "", "", "", "", "", "", cell, ""]
    (folder / "fieldcontact.csv").write_text(HEADER + "\n" + ",".join(row) + "\n", encoding="utf-8")
    (folder / "fieldcontact_name.csv").write_text(PERSONS, encoding="utf-8")
    return folder


def _best(runs: list[Callable[[], object]], repeat: int) -> list[float]:
    """For each run (one per size, in ``SIZES`` order), the time of one call: the fastest of
    ``repeat`` samples after an untimed warm-up, the garbage collector off. A sample calls
    the run enough times to read 4 MB in all (16, 8, 4 calls), so every size is timed over
    the same amount of work and one preemption of this shared two-core machine weighs the
    same on each; the warm-up keeps first touches of fresh memory out of the comparison."""
    best: list[float] = []
    gc.disable()
    try:
        for size, run in zip(SIZES, runs, strict=True):
            calls = max(1, SIZES[-1] * 4 // size)
            run()
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                for _ in range(calls):
                    run()
                samples.append((time.perf_counter() - start) / calls)
            best.append(min(samples))
    finally:
        gc.enable()
    return best


def _table(title: str, rows: list[tuple[str, list[float]]], sizes: tuple[int, ...] = SIZES,
           unit: str = "MB") -> None:
    """Times per input size, and the ratio of each time to the one before (the input doubles:
    about 2 is linear, about 4 quadratic)."""
    print(f"\n{title}")
    heads = [f"{size / 1e6:.2f} MB" if unit == "MB" else f"{size:,} ch" for size in sizes]
    print(f"| {'input':<28} | " + " | ".join(f"{h:>10}" for h in heads) + " | ratios (x2 input)      |")
    print("|" + "-" * 30 + "|" + "|".join("-" * 12 for _ in sizes) + "|" + "-" * 24 + "|")
    for label, times in rows:
        ratios = ", ".join(f"{b / a:.2f}" for a, b in pairwise(times))
        print(f"| {label:<28} | " + " | ".join(f"{t * 1000:7.1f} ms" for t in times) + f" | {ratios:<22} |")


def _read(path: Path) -> None:
    load_csv.read(path, path.name, OPEN)


def _refused(folder: Path, policy: DatasetPolicy) -> None:
    try:
        load_export(folder, policy, 2020)
    except InputError:
        return
    raise AssertionError("the shipped limits should refuse this cell")


def _street(text: str) -> None:
    reads_as_street(strip_house_number(text), frozenset({"st"}))


def _tokenize(tokenizer: Callable[[str], object], size: int) -> None:
    tokenizer('"' * size + str(time.perf_counter_ns()))  # a new word each time: spaCy caches words


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    opened = policy.model_copy(update={"limits": OPEN})
    cells: dict[str, Callable[[int], str]] = {"quoted field of \"\" pairs": lambda n: '"' + '""' * (n // 2) + '"',
                                              "field of bare quotes": lambda n: '"' * n}
    read_rows: list[tuple[str, list[float]]] = []
    load_rows: list[tuple[str, list[float]]] = []
    refuse_rows: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, make in cells.items():
            folders = [_export(Path(tmp) / f"{label[:6]}-{size}", make(size)) for size in SIZES]
            read_rows.append((label, _best([partial(_read, folder / "fieldcontact.csv") for folder in folders],
                                           args.repeat)))
            load_rows.append((label, _best([partial(load_export, folder, opened, 2020) for folder in folders],
                                           args.repeat)))
            refuse_rows.append((label, _best([partial(_refused, folder, policy) for folder in folders], args.repeat)))
    _table("load_csv.read (decode, strict CSV, limits raised to 4 MB)", read_rows)
    _table("load_export (the whole load, limits raised to 4 MB)", load_rows)
    _table("load_export under the shipped limits (refused: exit 4)", refuse_rows)
    street = _best([partial(_street, "a" + " " * size + "b") for size in SIZES], args.repeat)
    _table("street rule on a run of spaces", [("'a' + spaces + 'b'", street)])
    import spacy  # the contrast: the NER tokenizer, which max_word_chars (128) keeps away from long runs
    tokenizer = spacy.blank("en").tokenizer
    quotes = []
    for size in SPACY_SIZES:
        start = time.perf_counter()
        _tokenize(tokenizer, size)
        quotes.append(time.perf_counter() - start)
    _table("for contrast, spaCy's tokenizer on one word of quotes (bounded by limits.max_word_chars)",
           [("'\"' * n, one word", quotes)], SPACY_SIZES, "chars")
    return 0


if __name__ == "__main__":
    sys.exit(main())
