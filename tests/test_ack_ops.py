"""Acknowledgements in unattended runs: ``batch --ack``, ``watch --ack`` and the ledger's counters.

Every acknowledgement a batch writes passes pyx12 (the 999 and 277CA maps; the TA1 for its
fixed layout), is listed in the file's outcome, ``batch.json`` and the ledger, and is numbered
from the ledger: no ISA13 or GS06 is handed out twice, across runs, across parallel workers,
across processes reserving at the same moment. A file cut among workers is answered exactly as
when it is read whole. A claim accepted into the ledger gets a payer claim control number there
and the 277CA carries it as REF*1K; ``edi837 ack`` without a ledger leaves REF*1K out. A
ledger of the former schema is migrated in place.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import api
from edi837.cli import main
from edi837.engine import Engine
from edi837.ops.batch import BatchOptions, run_batch
from edi837.ops.ledger import CLAIM, CONTROL, MIGRATIONS, Ledger
from edi837.ops.watch import Watcher, WatchOptions
from edi837.x12.reader import read_segments
from tests.test_acks import check_ta1
from tests.x12valid import verdict

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
GENERATOR = ROOT / "bench" / "gen837.py"
ALL = ("ta1", "999", "277ca")
ACK_SUFFIXES = (".ta1", ".999", ".277ca")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return api.load_engine()


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def generate(target: Path, *options: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(GENERATOR), *options, "--out", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def samples(folder: Path) -> Path:
    """A copy of ``samples/`` (its README included: a file that is not X12)."""
    shutil.copytree(SAMPLES, folder)
    return folder


def acks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in ACK_SUFFIXES)


def control_numbers(paths: list[Path]) -> list[str]:
    """Every ISA13 and GS06 of the acknowledgements (as numbers: GS06 is not zero-padded)."""
    found = []
    for path in paths:
        for seg in read_segments(path.read_bytes()):
            if seg.id == "ISA":
                found.append(str(int(seg.element(13))))
            elif seg.id == "GS":
                found.append(seg.element(6))
    return found


def payer_numbers(data: bytes) -> dict[str, str]:
    """REF*1K per claim (TRN*2 CLM01) of a 277CA."""
    found: dict[str, str] = {}
    claim = ""
    for seg in read_segments(data):
        if seg.id == "TRN" and seg.element(1) == "2":
            claim = seg.element(2)
        elif seg.id == "REF" and seg.element(1) == "1K":
            found[claim] = seg.element(2)
    return found


# -- batch --ack -------------------------------------------------------------------------------


def test_batch_ack_over_the_samples_writes_answers_that_pass_pyx12(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err = invoke(
        "batch", str(samples(tmp_path / "in")), "-o", str(out), "--ack", "-j", "1"
    )
    assert code == 2, err  # the README is not X12: exit 2, the other files are processed
    written = acks_in(out)
    assert {p.name for p in written} >= {"multi.999", "multi.277ca", "missing-ndc.277ca"}
    validated = 0
    for ack in written:
        if ack.suffix == ".ta1":
            check_ta1(ack.read_bytes())
            continue
        assert verdict(ack, tmp_path / "pyx12") == "OK", ack.read_text()
        validated += 1
    assert validated == len([p for p in written if p.suffix != ".ta1"]) >= 10

    # Listed as outputs in batch.json and in the ledger; the unreadable README answered by none.
    summary = json.loads((out / "batch.json").read_text())
    listed = {Path(o).name for item in summary["files"] for o in item["outputs"]}
    assert {p.name for p in written} <= listed
    readme = next(item for item in summary["files"] if item["name"] == "README")
    assert readme["status"] == "error"
    assert not any(Path(o).suffix in ACK_SUFFIXES for o in readme["outputs"])
    with Ledger(out / "edi837.sqlite") as ledger:
        recorded = {Path(o).name for row in ledger.files() for o in row["outputs"]}
    assert {p.name for p in written} <= recorded
    numbers = control_numbers(written)
    assert len(numbers) == len(set(numbers))


def test_without_ack_a_batch_writes_no_acknowledgement(tmp_path: Path) -> None:
    out = tmp_path / "out"
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copyfile(SAMPLES / "multi.837", inputs / "multi.837")
    code, _, err = invoke("batch", str(inputs), "-o", str(out), "-j", "1")
    assert code == 1, err
    assert acks_in(out) == []


def test_a_bad_ack_type_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = invoke(
        "batch", str(SAMPLES / "multi.837"), "-o", str(tmp_path), "--ack", "--ack-types", "997"
    )
    assert code == 2 and "unknown acknowledgement type" in err


def test_two_runs_with_two_workers_never_reuse_a_control_number(tmp_path: Path) -> None:
    inputs = samples(tmp_path / "in")
    generate(inputs / "drop.837", "--claims", "30", "--interchanges", "3", "--control", "500")
    out = tmp_path / "out"
    seen: list[str] = []
    for run in range(2):
        options = BatchOptions(outdir=out, jobs=2, force=run > 0, acks=ALL, html=False)
        run_batch(sorted(p for p in inputs.iterdir() if p.suffix == ".837"), options)
        written = acks_in(out)
        assert len(written) >= 12
        seen += control_numbers(written)
    twice = [number for number, n in Counter(seen).items() if n > 1]
    assert twice == [], f"control numbers used twice: {twice}"
    with Ledger(out / "edi837.sqlite") as ledger:
        numbers = [c["payer_control"] for c in ledger.claims() if c["payer_control"]]
        accepted = [c for c in ledger.claims() if c["status"] == "accepted"]
    assert len(numbers) == len(set(numbers)) == len(accepted)


def test_a_file_cut_among_workers_gets_the_answers_of_the_uncut_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1742293800")
    source = generate(
        tmp_path / "in" / "drop.837", "--claims", "60", "--interchanges", "5", "--control", "70"
    )
    answers = {}
    for label, cut_size, jobs in (("whole", 1 << 40, 1), ("cut", 1, 2)):
        out = tmp_path / label
        run_batch([source], BatchOptions(outdir=out, jobs=jobs, cut_size=cut_size, acks=ALL))
        answers[label] = {p.name: p.read_bytes() for p in acks_in(out)}
    assert set(answers["whole"]) == {"drop.999", "drop.277ca"}
    assert answers["cut"] == answers["whole"]


# -- the counters ------------------------------------------------------------------------------


def _reserve_many(path: str, rounds: int) -> list[tuple[int, int]]:
    blocks = []
    with Ledger(Path(path)) as ledger:
        for n in range(rounds):
            size = 1 + n % 7
            blocks.append((ledger.reserve({CONTROL: size})[CONTROL], size))
    return blocks


def test_processes_reserving_at_once_get_disjoint_blocks(tmp_path: Path) -> None:
    path = str(tmp_path / "edi837.sqlite")
    Ledger(Path(path)).close()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(_reserve_many, [(path, 150), (path, 150)])
    taken = [first + i for blocks in results for first, size in blocks for i in range(size)]
    assert len(taken) == len(set(taken)) == sum(1 + n % 7 for n in range(150)) * 2
    assert min(taken) == 1


def test_control_numbers_wrap_after_nine_digits_and_claim_numbers_do_not(tmp_path: Path) -> None:
    with Ledger(tmp_path / "edi837.sqlite") as ledger:
        ledger.reserve({CONTROL: 999_999_997, CLAIM: 999_999_997})
        assert ledger.reserve({CONTROL: 5, CLAIM: 5}) == {CONTROL: 999_999_998, CLAIM: 999_999_998}
        # 999999998, 999999999, 1, 2, 3 were handed out: the next block starts at 4.
        assert ledger.reserve({CONTROL: 1, CLAIM: 1}) == {CONTROL: 4, CLAIM: 1_000_000_003}


def test_a_ledger_of_the_former_schema_is_migrated_in_place(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "edi837.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])  # the schema as released before the counters
    db.execute(
        "INSERT INTO files (sha256, size, path, first_seen, status) "
        "VALUES ('abc', 10, '/in/old.837', '2025-01-01', 'done')"
    )
    db.execute(
        "INSERT INTO claims (file_id, ordinal, claim_id, charge, profile, status) "
        "VALUES (1, 0, 'OLD0001', '100', 'medicare', 'accepted')"
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()

    out = tmp_path / "out"
    code, _, err = invoke(
        "batch", str(SAMPLES / "multi.837"), "-o", str(out), "--ledger", str(path), "--ack"
    )
    assert code == 1, err
    with Ledger(path) as ledger:
        assert ledger.schema_version == 2
        claims = {c["claim_id"]: c for c in ledger.claims()}
        assert claims["OLD0001"]["status"] == "accepted"
        assert claims["OLD0001"]["payer_control"] is None
        assert claims["MULTI0001"]["payer_control"] == "1"
    assert payer_numbers((out / "multi.277ca").read_bytes())["MULTI0001"] == "1"


# -- REF*1K ------------------------------------------------------------------------------------


def test_ref_1k_comes_from_the_ledger_and_only_with_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err = invoke("batch", str(SAMPLES / "multi.837"), "-o", str(out), "--ack")
    assert code == 1, err
    with Ledger(out / "edi837.sqlite") as ledger:
        recorded = {c["claim_id"]: c["payer_control"] for c in ledger.claims()}
    given = payer_numbers((out / "multi.277ca").read_bytes())
    # Accepted claims carry the ledger's number; the rejected MULTI0004 gets none.
    assert given == {k: v for k, v in recorded.items() if v is not None}
    assert set(given) == {"MULTI0001", "MULTI0002", "MULTI0003"}
    assert recorded["MULTI0004"] is None
    assert verdict(out / "multi.277ca", tmp_path / "pyx12") == "OK"

    # Plain edi837 ack: no ledger, no payer claim control number.
    plain = tmp_path / "plain"
    code, _, err = invoke("ack", str(SAMPLES / "multi.837"), "-o", str(plain))
    assert code == 0, err
    assert payer_numbers((plain / "multi.277ca").read_bytes()) == {}

    # edi837 ack --ledger: the numbers the ledger recorded for this file, new control numbers.
    again = tmp_path / "again"
    ledger_path = str(out / "edi837.sqlite")
    code, _, err = invoke(
        "ack", str(SAMPLES / "multi.837"), "-o", str(again), "--ledger", ledger_path
    )
    assert code == 0, err
    assert payer_numbers((again / "multi.277ca").read_bytes()) == given
    before = set(control_numbers(acks_in(out)))
    assert not before & set(control_numbers(acks_in(again)))


def test_ack_takes_a_ledger_or_a_control_number_not_both(tmp_path: Path) -> None:
    code, _, err = invoke(
        "ack",
        str(SAMPLES / "multi.837"),
        "-o",
        str(tmp_path),
        "--ledger",
        str(tmp_path / "l.sqlite"),
        "--control-number",
        "5",
    )
    assert code == 2 and "not both" in err


# -- watch --ack -------------------------------------------------------------------------------


def test_watch_ack_answers_in_the_outbox_and_not_errors_or_duplicates(
    tmp_path: Path, engine: Engine
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    shutil.copyfile(SAMPLES / "multi.837", inbox / "a-multi.837")
    shutil.copyfile(SAMPLES / "multi.837", inbox / "b-again.837")  # same content: a duplicate
    (inbox / "letter.837").write_bytes(b"not an X12 file\n")
    settings = WatchOptions(inbox=inbox, outdir=outdir, settle=0.0, once=True, acks=ALL)
    handled = {h.file: h for h in Watcher(settings, engine).run()}
    assert {n: h.status for n, h in handled.items()} == {
        "a-multi.837": "done",
        "b-again.837": "duplicate",
        "letter.837": "error",
    }
    outbox = outdir / "outbox"
    assert [p.name for p in acks_in(outbox)] == ["a-multi.277ca", "a-multi.999"]
    outcome = handled["a-multi.837"].outcome
    assert outcome is not None
    assert {p.name for p in outcome.outputs} >= {"a-multi.999", "a-multi.277ca"}
