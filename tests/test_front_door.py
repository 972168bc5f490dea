"""The front door: the public API, and what the commands built on it promise about files.

Each test here is something a user would notice: an original lost by a second ``--in-place``,
a claim that ``split`` neither forwards nor returns, an output half-written or written where
it must not be, a pipe that hangs a command, an exit code that lies to a script.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import edi837
from edi837.cli import main
from edi837.engine import Engine
from edi837.x12.reader import read_segments
from edi837.x837p.model import Claim

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CLEAN = SAMPLES / "clean-injection.837"
MULTI = SAMPLES / "multi.837"
MISSING_NDC = SAMPLES / "missing-ndc.837"


def run(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def copy(source: Path, folder: Path, name: str | None = None) -> Path:
    target = folder / (name or source.name)
    shutil.copyfile(source, target)
    return target


def clm_count(data: bytes) -> int:
    return sum(1 for seg in read_segments(data) if seg.id == "CLM")


# -- the public API ----------------------------------------------------------------------------


def test_the_public_names_run_a_whole_check_fix_and_split(tmp_path: Path) -> None:
    public = {name: getattr(edi837, name) for name in edi837.__all__}
    result = public["check"](MULTI)
    assert result.status == "findings" and result.claims == 4
    assert result.to_dict()["path"] == str(MULTI)
    fixed = public["fix"](MULTI, tmp_path / "fixed.837", unsafe=True)
    assert fixed.fixed == 2 and fixed.output == tmp_path / "fixed.837"
    assert public["check"](tmp_path / "fixed.837").claims == 4
    split = public["split"](MULTI, tmp_path / "out")
    assert (split.accepted, split.rejected) == (3, 1)
    claims = list(public["claims"](MULTI))
    assert all(isinstance(c, Claim) for c in claims) and len(claims) == 4
    loops = {placed.loop for placed in public["segments"](CLEAN)}
    assert {"ISA_LOOP", "2300", "2400", "2410"} <= loops


def test_a_source_may_be_a_path_bytes_or_a_stream() -> None:
    by_path = edi837.check(MULTI)
    by_bytes = edi837.check(MULTI.read_bytes(), name=str(MULTI))
    with MULTI.open("rb") as stream:
        by_stream = edi837.check(stream)
    assert by_path.to_dict() == by_bytes.to_dict() == by_stream.to_dict()


def test_check_never_raises_for_bad_input() -> None:
    result = edi837.check(b"NM1*IL*1*DOE*JANE~", name="bad.837")
    assert result.status == "error" and result.error is not None
    assert "DOE" not in result.error and "JANE" not in result.error


def test_no_837p_is_one_outcome_for_every_entry_point(tmp_path: Path) -> None:
    data = (
        CLEAN.read_bytes()
        .replace(b"ST*837*", b"ST*835*")
        .replace(b"*005010X222A1", b"*005010X221A1")
    )
    assert edi837.check(data).status == "error"
    for call in (
        lambda: edi837.fix(data),
        lambda: edi837.split(data, tmp_path),
        lambda: list(edi837.claims(data)),
    ):
        with pytest.raises(edi837.No837P):
            call()
    assert list(tmp_path.iterdir()) == []


def test_the_fixing_loop_is_the_one_the_command_runs(tmp_path: Path) -> None:
    target = tmp_path / "out.837"
    code, _, err = run("fix", str(MULTI), "-o", str(target))
    library = edi837.fix(MULTI, engine=Engine())
    assert library.data == target.read_bytes()
    assert f"{library.fixed} fixed, {len(library.remaining)} remaining" in err


# -- fix: originals, symlinks, pipes, files still being written ---------------------------------


def test_a_second_in_place_fix_keeps_the_first_original(tmp_path: Path) -> None:
    target = copy(MULTI, tmp_path)
    original = target.read_bytes()
    code, _, err = run("fix", "--in-place", "--select", "NDC", str(target))
    assert code in (0, 1), err
    after_first = target.read_bytes()
    code, _, err = run("fix", "--in-place", "--unsafe-fixes", str(target))
    assert code in (0, 1), err
    assert (tmp_path / "multi.837.orig").read_bytes() == original
    assert (tmp_path / "multi.837.orig.1").read_bytes() == after_first
    assert target.read_bytes() != after_first


def test_in_place_on_a_symlink_fixes_the_file_it_points_to(tmp_path: Path) -> None:
    real = copy(MULTI, tmp_path, "real.837")
    link = tmp_path / "link.837"
    link.symlink_to(real)
    code, _, err = run("fix", "--in-place", str(link))
    assert code in (0, 1), err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert b"00409-3795-01" not in real.read_bytes()
    assert (tmp_path / "real.837.orig").read_bytes() == MULTI.read_bytes()


def test_in_place_refuses_a_file_that_grows_while_it_is_fixed(tmp_path: Path) -> None:
    target = copy(MULTI, tmp_path)

    class Appending(Engine):
        """An engine that, like an upstream system still writing, appends while it checks."""

        appended = False

        def check_claim(self, claim: Claim) -> list[edi837.Finding]:
            if not Appending.appended:
                Appending.appended = True
                with target.open("ab") as handle:
                    handle.write(CLEAN.read_bytes())
            return super().check_claim(claim)

    grown_before = None
    with pytest.raises(edi837.X12SyntaxError, match="changed while it was being fixed"):
        grown_before = edi837.fix(target, in_place=True, engine=Appending())
    assert grown_before is None
    assert target.read_bytes() == MULTI.read_bytes() + CLEAN.read_bytes()
    assert not (tmp_path / "multi.837.orig").exists()


def fifo_with(tmp_path: Path, data: bytes) -> tuple[Path, threading.Thread]:
    fifo = tmp_path / "pipe.837"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as handle:
            handle.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    return fifo, writer


def test_fix_and_split_read_a_fifo_once(tmp_path: Path) -> None:
    fifo, writer = fifo_with(tmp_path, MULTI.read_bytes())
    out = tmp_path / "fixed.837"
    result = edi837.fix(fifo, out)
    writer.join(5)
    assert result.fixed == 1 and clm_count(out.read_bytes()) == 4
    fifo.unlink()
    fifo, writer = fifo_with(tmp_path, MULTI.read_bytes())
    split = edi837.split(fifo, tmp_path / "split")
    writer.join(5)
    assert split.accepted + split.rejected == 4


# -- fix: exit codes and logged bytes -------------------------------------------------------


def test_fix_exit_code_says_whether_findings_remain(tmp_path: Path) -> None:
    code, _, _ = run("fix", str(CLEAN), "-o", str(tmp_path / "a.837"))
    assert code == 0
    code, _, err = run("fix", str(MISSING_NDC), "-o", str(tmp_path / "b.837"))
    assert code == 1 and "1 remaining" in err


def test_an_edit_keeps_the_trailing_empty_elements_the_input_had(tmp_path: Path) -> None:
    data = MULTI.read_bytes().replace(b"LIN**N4*00409-3795-01~", b"LIN**N4*00409-3795-01**~")
    source = tmp_path / "trailing.837"
    source.write_bytes(data)
    log = tmp_path / "edits.json"
    code, _, err = run("fix", str(source), "-o", str(tmp_path / "out.837"), "--log", str(log))
    fixed = (tmp_path / "out.837").read_bytes()
    assert b"LIN**N4*00409379501**~" in fixed
    # Every byte that differs is an edit the log names.
    changed = [
        (a.number, a.text, b.text)
        for a, b in zip(read_segments(data), read_segments(fixed), strict=True)
        if a.text != b.text
    ]
    logged = {entry["segment_number"] for entry in json.loads(log.read_text())}
    assert {number for number, _, _ in changed} == logged


def test_several_files_are_fixed_each_on_its_own(tmp_path: Path) -> None:
    a, b = copy(MULTI, tmp_path, "a.837"), copy(CLEAN, tmp_path, "b.837")
    code, _, err = run("fix", "--in-place", str(a), str(b), str(tmp_path / "nope.837"))
    assert code == 2
    assert "nope.837: no such file" in err
    assert b"00409-3795-01" not in a.read_bytes()
    assert b.read_bytes() == CLEAN.read_bytes() and not (tmp_path / "b.837.orig").exists()
    code, _, err = run("fix", str(a), str(b))
    assert code == 2 and "need --in-place or --diff" in err


# -- output paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "fix"])
def test_bad_output_paths_are_refused_before_the_work(command: str, tmp_path: Path) -> None:
    for target, message in (
        (tmp_path / "missing" / "out", "does not exist"),
        (tmp_path, "is a folder"),
    ):
        code, out, err = run(command, str(MULTI), "-o", str(target))
        assert code == 2 and message in err, err
        assert len(err.strip().splitlines()) == 1 and "internal error" not in err
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        code, _, err = run(command, str(MULTI), "-o", str(locked / "out"))
        assert code == 2 and "permission denied" in err


def test_a_log_into_a_missing_folder_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.837"
    code, _, err = run("fix", str(MULTI), "-o", str(out), "--log", str(tmp_path / "x" / "log"))
    assert code == 2 and "does not exist" in err and not out.exists()


# -- split: every claim in exactly one output ------------------------------------------------


def test_split_refuses_a_file_whose_claim_it_cannot_place(tmp_path: Path) -> None:
    # The subscriber HL deleted: the claim has no level to travel with.
    data = CLEAN.read_bytes().replace(b"HL*2*1*22*0~\n", b"")
    source = tmp_path / "lost-hl.837"
    source.write_bytes(data)
    code, out, err = run("split", str(source), "-d", str(tmp_path / "out"))
    if code != 2:
        # Placed after all: then it must be in exactly one output.
        written = [p.read_bytes() for p in (tmp_path / "out").iterdir()]
        assert sum(clm_count(w) for w in written) == 1
    else:
        assert (
            "CLM" in err
            and not (tmp_path / "out").exists()
            or not any((tmp_path / "out").iterdir())
        )


def test_split_refuses_a_stray_clm_between_gs_and_st(tmp_path: Path) -> None:
    data = CLEAN.read_bytes().replace(b"ST*837*0001", b"CLM*STRAY*1***11:B:1*Y*A*Y*Y~\nST*837*0001")
    source = tmp_path / "stray.837"
    source.write_bytes(data)
    code, _, err = run("split", str(source), "-d", str(tmp_path / "out"))
    assert code == 2 and "CLM segment outside any claim" in err, err
    assert not any((tmp_path / "out").iterdir())


def test_split_without_st_loses_no_claim(tmp_path: Path) -> None:
    data = CLEAN.read_bytes().replace(b"ST*837*0001*005010X222A1~\n", b"")
    source = tmp_path / "no-st.837"
    source.write_bytes(data)
    code, _, err = run("split", str(source), "-d", str(tmp_path / "out"))
    out_dir = tmp_path / "out"
    written = [p.read_bytes() for p in out_dir.iterdir()] if out_dir.exists() else []
    if code == 2:
        errors = [line for line in err.splitlines() if not line.startswith("edi837: note")]
        assert written == [] and len(errors) == 1
    else:
        assert sum(clm_count(w) for w in written) == clm_count(data)


def test_split_outputs_are_published_together_and_leave_no_temporary(tmp_path: Path) -> None:
    code, out, _ = run("split", str(MULTI), "-d", str(tmp_path))
    assert code == 1 and "1 claim rejected" in out
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["multi.accepted.837", "multi.rejected.837"]
    total = sum(clm_count((tmp_path / n).read_bytes()) for n in names)
    assert total == clm_count(MULTI.read_bytes())


# -- inputs and messages ----------------------------------------------------------------------


def test_standard_input_named_twice_is_refused() -> None:
    code, _, err = run("check", "-", "-", input=CLEAN.read_bytes())
    assert code == 2 and "standard input (-) can be read only once" in err


def test_a_folder_is_walked_for_its_837_files(tmp_path: Path) -> None:
    copy(CLEAN, tmp_path, "a.837")
    (tmp_path / "sub").mkdir()
    copy(MULTI, tmp_path / "sub", "b.x12")
    (tmp_path / ".hidden.837").write_bytes(b"junk")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    code, out, _ = run("check", "-f", "json", str(tmp_path))
    paths = [f["path"] for f in json.loads(out)["files"]]
    assert paths == [str(tmp_path / "a.837"), str(tmp_path / "sub" / "b.x12")]
    assert code == 1


def test_an_error_is_printed_once_with_its_path_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.837"
    bad.write_bytes(b"not x12 at all")
    code, _, err = run("check", str(bad))
    lines = [line for line in err.splitlines() if not line.startswith("edi837: note")]
    assert code == 2 and len(lines) == 1
    assert lines[0].count(str(bad)) == 1


def test_control_characters_in_a_file_name_cannot_forge_a_line(tmp_path: Path) -> None:
    name = tmp_path / "evil\nedi837: all clean\x1b[2J.837"
    name.write_bytes(b"not x12")
    code, _, err = run("check", str(name))
    assert code == 2
    assert "\x1b" not in err
    assert not any(line.startswith("edi837: all clean") for line in err.splitlines())


def test_help_texts_show_no_markup() -> None:
    for command in ("check", "fix", "split", "annotate", "parse", "rules", "refdata"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "``" not in out, command


def test_every_example_of_the_api_page_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import doctest

    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testfile(
        str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert tried > 20 and failures == 0


def test_missing_tables_are_named_once_and_only_when_a_rule_needed_them() -> None:
    _, _, err = run("parse", str(MULTI), "--no-output")
    assert "reference tables not loaded" not in err
    _, _, err = run("check", "--select", "ENV", str(MULTI))
    assert "reference tables not loaded" not in err
    _, _, err = run("check", str(MULTI), str(CLEAN))
    notes = [line for line in err.splitlines() if "reference tables not loaded" in line]
    assert len(notes) == 1 and "ndc-directory" in notes[0] and "mdrp" in notes[0]


def test_redact_masks_patient_data_in_every_report(tmp_path: Path) -> None:
    # The samples' patient: TESTPATIENT ALEX, member id TESTMBI0001, born 19480207.
    patient = ("TESTPATIENT", "TESTMBI0001", "19480207", "12 EXAMPLE ROAD")
    for fmt in ("text", "json", "csv", "html"):
        out = tmp_path / f"report.{fmt}"
        code, _, _ = run("check", "--redact", "-f", fmt, "-o", str(out), str(CLEAN))
        assert code in (0, 1)
        text = out.read_text(encoding="utf-8")
        assert not any(value in text for value in patient), fmt
    listing = tmp_path / "listing.txt"
    run("annotate", "--redact", "-o", str(listing), str(CLEAN))
    assert not any(value in listing.read_text(encoding="latin-1") for value in patient)


def test_a_report_streams_into_its_file_with_the_inputs_permissions(tmp_path: Path) -> None:
    source = copy(MULTI, tmp_path)
    source.chmod(0o600)
    out = tmp_path / "report.json"
    code, _, _ = run("check", "-f", "json", "-o", str(out), str(source))
    assert code == 1 and json.loads(out.read_text())["version"] == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
