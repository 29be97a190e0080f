"""Issue #15, section 4: large record-level files as CSV parts and Parquet, held as the build writes them.

A policy whose ``publish.csv_row_limit`` is 3 makes a 40-report FIOE year a file of many parts. The
honest bundle is written as consecutive parts of exactly 3 rows (the last fewer), one multipart
resource each in ``datapackage.json``, with a Parquet file beside each holding every row; two builds
give the same Parquet bytes; approve, publish, the audit and ``verify`` pass it.

The analyst holds the release key: a copy of the honest bundle is edited (a Parquet file with a
key-value entry or a column added, parts moved, merged, left out or added), ``datapackage.json`` and
the manifest's outputs made to match, re-hashed and bound again on the ledger. approve and publish
refuse it (7), the audit and ``verify`` fail it (8), naming the file and rule and never the value
planted (``SECRET``). Fictitious values only.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bundlekit import (
    YEAR,
    World,
    _audit_problems,
    _org,
    _raw_2021,
    _rebind,
    _rows,
    _sign_outside_approve,
    _verify_problems,
)
from bundlekit import _write as _write_rows
from conftest import ROOT, invoke, new_signer, trusted_rules, valid_typed_package

from release.bundle import record_parts
from release.bundle.layout import json_text, sha256_file
from release.errors import InputError

pytestmark = pytest.mark.usefixtures("release_key")  # as in tests/governance: bundlekit's KEY

SECRET = "4242"
LIMIT = 3
CONTACTS = f"fioe_{YEAR}_contacts"


# ---- record_parts on its own: names, splitting, reading back, Parquet ----------------------------

def test_layout_names_parts_in_row_order_and_a_file_within_the_limit_stays_one_csv() -> None:
    assert record_parts.layout("public/x_2020.csv", 3, 3, True) == record_parts.Layout(("public/x_2020.csv",))
    split = record_parts.layout("public/x_2020.csv", 7, 3, True)
    assert split.csv == ("public/x_2020.part-001.csv", "public/x_2020.part-002.csv", "public/x_2020.part-003.csv")
    assert split.parquet == "public/x_2020.parquet"
    assert record_parts.layout("x.csv", 7, 3, False).parquet is None
    assert record_parts.layout("x.csv", 1001, 1, False).csv[-1] == "x.part-1001.csv"  # wider when it must be
    assert record_parts.layout("x.csv", 10**9, None).csv == ("x.csv",)  # a table: never split
    from release.config.policy import load_policy
    settings = load_policy(ROOT / "redaction_rules" / "fioe.yaml").publish  # no publish section: the defaults
    assert (settings.csv_row_limit, settings.parquet) == (1_000_000, True)


TEXT = 'id,note\n1,a\n2,"two\nlines"\n3,\n4,"say ""x"""\n5,e\n6,f\n7,g\n'


def _folder(tmp_path: Path, parts: dict[str, str]) -> Path:
    for name, text in parts.items():
        (tmp_path / name).write_text(text, encoding="utf-8", newline="")
    return tmp_path


def test_parts_join_back_to_the_text_and_parquet_holds_its_cells(tmp_path: Path) -> None:
    parts = record_parts.split_text(TEXT, LIMIT)
    assert len(parts) == 3 and all(p.startswith("id,note\n") for p in parts)
    names = record_parts.layout("x.csv", 7, LIMIT).csv
    folder = _folder(tmp_path, dict(zip(names, parts, strict=True)))
    assert record_parts.read_text(folder, "x.csv", LIMIT) == TEXT
    assert record_parts.read_text(folder, "x.csv") == TEXT  # without a policy: the first part's count
    data = record_parts.parquet_bytes(TEXT)
    assert data == record_parts.parquet_bytes(TEXT)
    read = pq.ParquetFile(io.BytesIO(data))
    assert read.metadata.metadata is None and read.schema_arrow.names == ["id", "note"]  # no key-value metadata
    rows = list(csv.reader(io.StringIO(TEXT, newline="")))[1:]
    assert read.read().to_pylist() == [dict(zip(["id", "note"], r, strict=True)) for r in rows]


PART_EDITS = {  # name -> (files written, the message's words)
    "part-missing": ({"x.part-001.csv": "id,note\n1,a\n2,b\n3,c\n", "x.part-003.csv": "id,note\n7,g\n"},
                     "not the parts the build writes"),
    "part-added": ({"x.part-001.csv": "id,note\n1,a\n2,b\n3,c\n", "x.part-002.csv": "id,note\n4,d\n",
                    "x.part-003.csv": "id,note\n4,d\n"}, "not the parts the build writes"),
    "parts-merged": ({"x.part-001.csv": "id,note\n1,a\n2,b\n3,c\n4,d\n", "x.part-002.csv": "id,note\n5,e\n"},
                     "every part but the last holds exactly"),
    "split-elsewhere": ({"x.part-001.csv": "id,note\n1,a\n2,b\n", "x.part-002.csv": "id,note\n3,c\n4,d\n5,e\n",
                         "x.part-003.csv": "id,note\n6,f\n7,g\n"}, "every part but the last holds exactly"),
    "header-differs": ({"x.part-001.csv": "id,note\n1,a\n2,b\n3,c\n", "x.part-002.csv": "id,extra\n4,d\n"},
                       "its header is not the first part's"),
    "both-forms": ({"x.csv": "id,note\n1,a\n", "x.part-001.csv": "id,note\n1,a\n2,b\n3,c\n",
                    "x.part-002.csv": "id,note\n4,d\n"}, "both the file and parts of it"),
    "one-file-past-limit": ({"x.csv": "id,note\n1,a\n2,b\n3,c\n4,d\n"}, "more rows than the policy's csv_row_limit"),
    "a-lone-part": ({"x.part-001.csv": "id,note\n1,a\n"}, "not the parts the build writes"),
}


@pytest.mark.parametrize("edit", list(PART_EDITS), ids=list(PART_EDITS))
def test_parts_not_as_the_build_writes_them_are_refused_by_the_one_reader(tmp_path: Path, edit: str) -> None:
    files, said = PART_EDITS[edit]
    with pytest.raises(InputError, match=said) as caught:
        record_parts.read_text(_folder(tmp_path, files), "x.csv", LIMIT)
    assert caught.value.rule == record_parts.RULE


def test_the_file_set_follows_from_the_rows_found_and_the_policy(tmp_path: Path) -> None:
    """What the exact-file-set check allows (``public_content``): no Parquet file for a file within the
    limit, or under ``parquet: false``; past the limit, every part the rows call for."""
    def expected(folder: Path, name: str, limit: int, parquet: bool) -> record_parts.Layout:  # as public_content
        return record_parts.layout(name, record_parts.count_rows(folder, name), limit, parquet)

    folder = _folder(tmp_path, {"x.csv": "id,note\n1,a\n2,b\n"})
    assert expected(folder, "x.csv", LIMIT, True).paths == ("x.csv",)
    (folder / "x.csv").unlink()
    _folder(tmp_path, {"x.part-001.csv": "id,note\n1,a\n2,b\n3,c\n", "x.part-002.csv": "id,note\n4,d\n"})
    assert expected(folder, "x.csv", LIMIT, True).paths == ("x.part-001.csv", "x.part-002.csv", "x.parquet")
    assert expected(folder, "x.csv", LIMIT, False).paths == ("x.part-001.csv", "x.part-002.csv")
    (folder / "x.parquet").write_bytes(record_parts.parquet_bytes("id,note\n1,a\n2,b\n3,c\n4,d\n"))
    assert record_parts.parquet_problems(folder, "x.parquet") == []
    (folder / "y.parquet").write_bytes((folder / "x.parquet").read_bytes())  # a Parquet file of no CSV
    assert record_parts.parquet_problems(folder, "y.parquet") != []


@pytest.mark.parametrize("value", ["0", "-1", "'1000'", "true", "1048576"], ids=["zero", "negative", "text", "flag",
                                                                                  "past-excel"])
def test_a_bad_row_limit_is_a_config_error_naming_file_and_key(tmp_path: Path, value: str) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "redaction_rules", rules)
    with (rules / "fioe.yaml").open("a", encoding="utf-8") as handle:
        handle.write(f"\npublish: {{csv_row_limit: {value}}}\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(raw), "--out", str(tmp_path / "out"),
                                  "--rules", str(rules))
    said = " ".join((stdout + stderr).split())
    assert code == 3 and "fioe.yaml" in said and "publish.csv_row_limit" in said, said


# ---- the whole flow through the CLI --------------------------------------------------------------

@pytest.fixture()
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """The organisation's rules (a witness, "A. Counsel" trusted) with a row limit of 3 rows per CSV."""
    monkeypatch.delenv("RELEASE_HMAC_KEY", raising=False)
    rules = trusted_rules(tmp_path)
    with (rules / "fioe.yaml").open("a", encoding="utf-8") as handle:
        handle.write(f"\npublish: {{csv_row_limit: {LIMIT}, parquet: true}}\n")
    return World(tmp_path, tmp_path / "raw-unused", tmp_path / "out-unused", rules,
                 new_signer(tmp_path, "A. Counsel"), monkeypatch)


def _parts(public: Path, stem: str) -> list[Path]:
    return sorted(public.glob(f"{stem}.part-*.csv"))


def _parquet_with(public: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    path = public / f"{CONTACTS}.parquet"
    pq.write_table(change(pq.read_table(path)), path, **record_parts._WRITER)  # type: ignore[arg-type]


def _kv_entry(public: Path) -> None:  # the same table, one key-value entry more in the footer
    path = public / f"{CONTACTS}.parquet"
    table = pq.read_table(path)
    with pq.ParquetWriter(path, table.schema, **{k: v for k, v in record_parts._WRITER.items()
                                                 if k != "row_group_size"}) as writer:  # type: ignore[arg-type]
        writer.write_table(table, row_group_size=record_parts._WRITER["row_group_size"])  # type: ignore[arg-type]
        writer.add_key_value_metadata({"note": SECRET})
    assert pq.ParquetFile(path).metadata.metadata == {b"note": SECRET.encode()}


def _extra_column(public: Path) -> None:
    _parquet_with(public, lambda t: t.append_column(pa.field("note", pa.string(), nullable=False),
                                                    pa.array([SECRET] * t.num_rows, pa.string())))


def _moved(public: Path) -> None:  # part 2 renamed to the number after the last: a gap, the rows reordered
    parts = _parts(public, CONTACTS)
    parts[1].rename(public / f"{CONTACTS}.part-{len(parts) + 1:03d}.csv")


def _merged(public: Path) -> None:  # parts 1 and 2 as one, the rest renumbered: every row still there
    parts = _parts(public, CONTACTS)
    first, second = _rows(parts[0]), _rows(parts[1])
    _write_rows(parts[0], first + second[1:])
    for index in range(1, len(parts) - 1):
        parts[index + 1].replace(parts[index])
    parts[-1].unlink(missing_ok=True)


def _missing(public: Path) -> None:
    _parts(public, CONTACTS)[4].unlink()


def _added(public: Path) -> None:  # one more part after the last, a row of its own
    parts = _parts(public, CONTACTS)
    rows = _rows(parts[-1])
    _write_rows(public / f"{CONTACTS}.part-{len(parts) + 1:03d}.csv", rows[:2])


def _reports_swapped(public: Path, *, across: bool) -> None:
    """Two one-row reports trade places, in one part or across parts 1 and 2, and the Parquet file is
    written again from the parts (round 38, F1: the order of k reports carried log2(k!) bits)."""
    parts = _parts(public, CONTACTS)
    rows = [_rows(p) for p in parts]
    link = rows[0][0].index("fc_num")
    count: dict[str, int] = {}
    for part in rows:
        for row in part[1:]:
            count[row[link]] = count.get(row[link], 0) + 1
    places = [(p, r) for p in range(len(rows)) for r in range(1, len(rows[p])) if count[rows[p][r][link]] == 1]
    if across:
        (p1, r1), (p2, r2) = next((a, b) for a in places for b in places if a[0] == 0 and b[0] == 1)
    else:
        (p1, r1), (p2, r2) = next((a, b) for a in places for b in places if a[0] == b[0] and a[1] < b[1])
    rows[p1][r1], rows[p2][r2] = rows[p2][r2], rows[p1][r1]
    for path, part in zip(parts, rows, strict=True):
        _write_rows(path, part)
    text = record_parts.read_text(public, f"{CONTACTS}.csv")
    assert text is not None
    (public / f"{CONTACTS}.parquet").write_bytes(record_parts.parquet_bytes(text))


EDITS = {  # name -> (edit of public/, what every refusal names)
    "reports-swapped-across": (lambda public: _reports_swapped(public, across=True), "rule row-order"),
    "reports-swapped-within": (lambda public: _reports_swapped(public, across=False), "rule row-order"),
    "parquet-kv": (_kv_entry, f"public file {CONTACTS}.parquet: not the Parquet file the build writes"),
    "parquet-column": (_extra_column, f"public file {CONTACTS}.parquet: not the Parquet file the build writes"),
    "part-moved": (_moved, "rule record-parts"),
    "parts-merged": (_merged, "rule record-parts"),
    "part-missing": (_missing, "rule record-parts"),
    "part-added": (_added, "rule record-parts"),
}


def _made_to_match(bundle: Path) -> None:
    """What an analyst holding the key does after editing public/: ``datapackage.json`` lists the parts
    now there, the manifest's outputs are exactly the public files with their hashes (and rows)."""
    public = bundle / "public"
    package = json.loads((public / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        if resource["name"] == CONTACTS:
            resource["path"] = [p.name for p in _parts(public, CONTACTS)]
    (public / "datapackage.json").write_text(json_text(package, sort=True), encoding="utf-8")
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    outputs = []
    for item in manifest["outputs"]:
        path = bundle / item["path"]
        if path.is_file():
            outputs.append({**item, "sha256": sha256_file(path), "bytes": path.stat().st_size})
    listed = {o["path"] for o in outputs}
    for path in sorted(public.rglob("*")):
        relpath = path.relative_to(bundle).as_posix()
        if path.is_file() and relpath not in listed:
            outputs.append({"path": relpath, "sha256": sha256_file(path), "bytes": path.stat().st_size,
                            **({"rows": len(_rows(path)) - 1} if path.suffix == ".csv" else {})})
    for item in outputs:
        if item["path"].endswith(".csv") and "rows" in item:
            item["rows"] = len(_rows(bundle / item["path"])) - 1
    manifest["outputs"] = outputs
    (bundle / "manifest.json").write_text(json_text(manifest, ascii_only=True, sort=True), encoding="utf-8")


def _edited(world: World, pristine: Path, variant: str, edit: Callable[[Path], None]) -> tuple[Path, Path]:
    """A copy of the honest bundle edited, made to match, re-hashed and bound again: (out, bundle)."""
    out = world.tmp / f"rel-{variant}"
    shutil.copytree(pristine, out)
    bundle = out / "fioe" / YEAR
    edit(bundle / "public")
    _made_to_match(bundle)
    _rebind(world, bundle)
    return out, bundle


def _refused(world: World, pristine: Path, variant: str, edit: Callable[[Path], None], said: str) -> None:
    """approve and publish 7, the audit and ``verify`` 8, each naming ``said``, none the value planted."""
    out, bundle = _edited(world, pristine, variant, edit)
    org = _org(out, world)
    code, stdout, stderr = invoke("approve", *org[:2], "--key", str(world.counsel), *org[2:], "--json")
    refusal = " ".join((stdout + stderr).split())
    assert code == 7 and "rule trusted-policy" in refusal and "Traceback" not in refusal, (variant, refusal)
    assert said in refusal and SECRET not in refusal, (variant, refusal)
    _sign_outside_approve(world, bundle)
    refusal = world.refused(7, "rule trusted-policy", "publish", *org[:2], "--to", str(world.tmp / f"site-{variant}"),
                            *org[2:])
    assert SECRET not in refusal and not (world.tmp / f"site-{variant}" / "fioe" / YEAR).exists()
    for problems in (_audit_problems(world, out, "trusted_policy"), _verify_problems(world, bundle)):
        assert any(said in p for p in problems), (variant, problems)
        assert not any(SECRET in p for p in problems), (variant, problems)
    shutil.rmtree(world.tmp / "portal", ignore_errors=True)


def _problems(world: World, pristine: Path, variant: str, edit: Callable[[Path], None]) -> list[str]:
    """What approve, publish, the audit and ``verify`` each hold an edited bundle to (``release_problems``),
    called directly: the CLI runs of ``_refused`` show those commands refuse on it (CI's time is short)."""
    from release.audit.trusted_release import release_problems
    from release.bundle.read import read_manifest

    _, bundle = _edited(world, pristine, variant, edit)
    return release_problems(world.rules, read_manifest(bundle), bundle / "public", bundle.name)


@pytest.mark.slow
def test_a_year_past_the_limit_goes_out_in_parts_with_parquet_and_edits_are_refused(world: World) -> None:
    raw = _raw_2021(world)
    out = world.tmp / "rel-honest"
    world.ok(*world.build(out, "--json", raw=raw, year=YEAR))
    bundle = out / "fioe" / YEAR
    public = bundle / "public"

    # parts of exactly 3 rows but the last, each with the header; no file under the whole file's name
    parts = _parts(public, CONTACTS)
    assert len(parts) > 2 and not (public / f"{CONTACTS}.csv").exists()
    header = _rows(parts[0])[0]
    assert all(_rows(p)[0] == header for p in parts)
    assert [len(_rows(p)) - 1 for p in parts[:-1]] == [LIMIT] * (len(parts) - 1)
    assert 1 <= len(_rows(parts[-1])) - 1 <= LIMIT
    whole = [row for p in parts for row in _rows(p)[1:]]

    # the Parquet file holds every row of the parts, in order, each cell the CSV's text; nothing else
    table = pq.read_table(public / f"{CONTACTS}.parquet")
    assert table.column_names == header and table.to_pylist() == [dict(zip(header, r, strict=True)) for r in whole]
    assert pq.ParquetFile(public / f"{CONTACTS}.parquet").metadata.metadata is None

    # one multipart resource per file, its Parquet file a resource of its own; frictionless validates both
    package = valid_typed_package(public)
    resources = {r["name"]: r for r in package["resources"]}
    assert resources[CONTACTS]["path"] == [p.name for p in parts]
    assert resources[f"{CONTACTS}_parquet"]["format"] == "parquet"
    assert resources[f"{CONTACTS}_parquet"]["schema"] == resources[CONTACTS]["schema"]

    # every part and the Parquet file in the manifest's outputs, with their hashes
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    listed = {o["path"]: o for o in manifest["outputs"]}
    for path in [*parts, public / f"{CONTACTS}.parquet"]:
        assert listed[path.relative_to(bundle).as_posix()]["sha256"] == sha256_file(path)

    # a second build of the same export: the same Parquet bytes
    again = world.tmp / "rel-again"
    world.ok(*world.build(again, "--json", raw=raw, year=YEAR))
    for name in (f"{CONTACTS}.parquet", f"fioe_{YEAR}_persons.parquet"):
        assert (again / "fioe" / YEAR / "public" / name).read_bytes() == (public / name).read_bytes()

    pristine = world.tmp / "rel-pristine"
    shutil.copytree(out, pristine)
    # the honest bundle: approved, published and verified, the audit passes
    org = _org(out, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])
    world.ok("publish", *org[:2], "--to", str(world.site), *org[2:])
    code, stdout, stderr = invoke("verify", str(world.site / "fioe" / YEAR), "--rules", str(world.rules))
    assert code == 0, stdout + stderr
    code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
    assert code == 0, stdout + stderr

    # through every command: a Parquet file with a key-value entry added, and two parts merged into one
    for variant in ("parquet-kv", "parts-merged"):
        _refused(world, pristine, variant, *EDITS[variant])
    for variant in sorted(set(EDITS) - {"parquet-kv", "parts-merged"}):
        problems = _problems(world, pristine, variant, EDITS[variant][0])
        assert any(EDITS[variant][1] in p for p in problems), (variant, problems)
        assert not any(SECRET in p for p in problems), (variant, problems)


def test_a_parquet_file_from_another_pyarrow_is_named_as_such_not_as_an_edit(tmp_path: Path) -> None:
    """Round 38, F3: the footer names the writer's version, so an honest file checked on a machine with
    another pyarrow cannot be regenerated there: refused (fail closed), saying why and what to install,
    never quoting the footer (an edited file's footer is the analyst's text)."""
    from importlib import metadata

    text = "a,b\nx,1\ny,2\n"
    folder = _folder(tmp_path, {"f.csv": text})
    honest = record_parts.parquet_bytes(text)
    ours = f"version {metadata.version('pyarrow')}".encode()
    assert honest.count(ours) == 1
    other = honest.replace(ours, b"version " + b"9" * (len(ours) - len(b"version ")))
    (folder / "f.parquet").write_bytes(honest)
    assert record_parts.parquet_problems(folder, "f.parquet") == []
    (folder / "f.parquet").write_bytes(other)
    [problem] = record_parts.parquet_problems(folder, "f.parquet")
    assert "another Parquet writer" in problem and "999" not in problem
