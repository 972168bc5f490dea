"""``edi837 fix``: what a biller sends on must be correct, complete and written safely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main
from edi837.x12.reader import read_segments
from tests.corpus import CORPUS
from tests.x12valid import X12VALID, verdict

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def run(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout_bytes, result.stderr


def copy(name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copyfile(SAMPLES / name, target)
    return target


def test_fixes_the_safe_findings_and_keeps_every_other_byte(tmp_path: Path) -> None:
    source = copy("multi.837", tmp_path)
    out = tmp_path / "fixed.837"
    code, _, err = run("fix", str(source), "-o", str(out))
    assert code == 1  # the unsafe CTP-002 unit change is not made: its reject remains
    assert err.strip().splitlines()[-1].startswith("1 fixed, ")
    before, after = source.read_bytes(), out.read_bytes()
    changed = [
        (a.text, b.text)
        for a, b in zip(read_segments(before), read_segments(after), strict=True)
        if a.text != b.text
    ]
    # CTP05-1 MG on ketorolac (a solution) is not fixed safely: ME would draw CTP-004.
    assert changed == [("LIN**N4*00409-3795-01", "LIN**N4*00409379501")]
    # Only that value changed: every other byte (layout, envelope, counts) is the input's.
    assert after == before.replace(b"00409-3795-01", b"00409379501")
    _, report, _ = run("check", "-f", "json", str(out))
    codes = {f["code"] for f in json.loads(report)["files"][0]["findings"]}
    assert not codes & {"NDC-004", "CTP-004"}


def test_fixing_is_idempotent_and_a_clean_file_comes_out_identical(tmp_path: Path) -> None:
    source = copy("multi.837", tmp_path)
    once, twice = tmp_path / "once.837", tmp_path / "twice.837"
    run("fix", str(source), "-o", str(once))
    code, _, err = run("fix", str(once), "-o", str(twice))
    assert code == 1 and twice.read_bytes() == once.read_bytes()
    assert err.strip().startswith("0 fixed")
    for name in ("clean-injection.837", "crlf.837", "newline-terminated.837"):
        code, out, _ = run("fix", str(SAMPLES / name))
        assert code == 0 and out == (SAMPLES / name).read_bytes(), name


def test_in_place_keeps_the_original(tmp_path: Path) -> None:
    source = copy("multi.837", tmp_path)
    original = source.read_bytes()
    code, _, _ = run("fix", str(source), "--in-place")
    assert code == 1  # the unsafe CTP-002 unit change is not made: its reject remains
    assert (tmp_path / "multi.837.orig").read_bytes() == original
    assert b"00409379501" in source.read_bytes()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == [], "no temporary file is left behind"


def test_diff_prints_segments_and_writes_nothing(tmp_path: Path) -> None:
    source = copy("multi.837", tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, _ = run("fix", str(source), "--diff")
    text = out.decode()
    assert code == 1  # the unsafe CTP-002 unit change is not made: its reject remains
    assert "-LIN**N4*00409-3795-01" in text and "+LIN**N4*00409379501" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_log_has_one_entry_per_edit(tmp_path: Path) -> None:
    source = copy("multi.837", tmp_path)
    log = tmp_path / "edits.json"
    run("fix", str(source), "-o", str(tmp_path / "out.837"), "--log", str(log))
    entries = json.loads(log.read_text())
    assert [(e["code"], e["element"], e["old"], e["new"]) for e in entries] == [
        ("NDC-004", "LIN03", "00409-3795-01", "00409379501"),
    ]
    assert all(e["claim"] == "MULTI0004" and e["line"] == 3 for e in entries)
    assert all(isinstance(e["segment_number"], int) for e in entries)


def test_unsafe_fixes_only_when_asked(tmp_path: Path) -> None:
    text = (SAMPLES / "clean-injection.837").read_text().replace("CTP****1*ML~", "CTP****1*EA~")
    source = tmp_path / "ea.837"
    source.write_text(text)
    _, out, err = run("fix", str(source))
    assert b"CTP****1*EA~" in out and "more fixable with --unsafe-fixes" in err
    _, out, _ = run("fix", str(source), "--unsafe-fixes")
    assert b"CTP****1*UN~" in out


def test_standard_input_and_select(tmp_path: Path) -> None:
    data = (SAMPLES / "multi.837").read_bytes()
    code, out, _ = run("fix", "-", "--select", "NDC-004", input=data)
    assert code == 0
    assert b"00409379501" in out and b"CTP****30*MG~" in out


def test_bad_input_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.837"
    bad.write_bytes(b"not an edi file")
    out = tmp_path / "out.837"
    code, _, err = run("fix", str(bad), "-o", str(out))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "ISA" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.837"]


def test_segments_added_or_removed_recount_se01(tmp_path: Path) -> None:
    # SUP-002's safe fix deletes a 2420A identical to 2310B: two segments fewer.
    text = (SAMPLES / "clean-injection.837").read_text()
    text = text.replace(
        "SV1*HC:96372*35*UN*1***1~\nDTP*472*D8*20250314~\n",
        "SV1*HC:96372*35*UN*1***1~\nDTP*472*D8*20250314~\n"
        "NM1*82*1*EXAMPLEDOC*JORDAN****XX*1999999919~\nPRV*PE*PXC*207Q00000X~\n",
    ).replace("SE*34*0001~", "SE*36*0001~")
    source = tmp_path / "rendering.837"
    source.write_text(text)
    code, out, _ = run("fix", str(source))
    assert code == 0
    segments = read_segments(out)
    assert "SE*34*0001" in [s.text for s in segments]
    _, report, _ = run("check", "-f", "json", "-", input=out)
    assert not [f for f in json.loads(report)["files"][0]["findings"] if f["code"] == "ENV-008"]


@pytest.mark.skipif(not X12VALID.exists(), reason="pyx12's x12valid is not installed in .venv")
def test_x12valid_accepts_the_fixed_file_where_only_fixed_errors_stood(tmp_path: Path) -> None:
    source = copy("multi.837", tmp_path)
    out = tmp_path / "multi-fixed.837"
    run("fix", str(source), "-o", str(out), "--unsafe-fixes")
    # The input fails only because of the MG unit; the fixed file passes.
    assert verdict(source, tmp_path / "v") == "Failure"
    assert verdict(out, tmp_path / "v") == "OK"


@pytest.mark.corpus
@pytest.mark.skipif(not X12VALID.exists(), reason="pyx12's x12valid is not installed in .venv")
def test_x12valid_still_accepts_fixed_corpus_files(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    manifest = (CORPUS / "MANIFEST.tsv").read_text().splitlines()[1:]
    valid = [row.split("\t")[0] for row in manifest if row.split("\t")[10] == "OK"]
    checked = 0
    for name in valid:
        source = CORPUS / name
        if b"ISA*00*" not in source.read_bytes()[:200] or b"00501" not in source.read_bytes()[:120]:
            continue  # 4010 files are not 837P 5010; fix refuses them
        out = tmp_path / (Path(name).name + ".fixed")
        code, _, err = run("fix", str(source), "-o", str(out))
        # Exit 1 only says rejects remain (e.g. the placeholder NPIs of the guide examples).
        assert code in (0, 1), err
        assert verdict(out, tmp_path / "v") == "OK", name
        checked += 1
    assert checked >= 15


def test_a_file_without_837p_is_refused(tmp_path: Path) -> None:
    text = (SAMPLES / "clean-injection.837").read_text()
    text = text.replace("ST*837*0001*005010X222A1~", "ST*835*0001*005010X221A1~")
    text = text.replace("GS*HC*", "GS*HP*").replace("*X*005010X222A1~", "*X*005010X221A1~")
    source = tmp_path / "remit.835"
    source.write_text(text)
    code, out, err = run("fix", str(source))
    assert code == 2 and out == b"" and "835" in err
