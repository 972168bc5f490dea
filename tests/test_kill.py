"""Killed at any moment, ``fix`` and ``split`` leave the old outputs or the new ones, never a half.

Each test runs the real command in a subprocess, kills it with SIGKILL at random moments
(seeded), and checks what a cron job or a person finds afterwards: every output that exists is
complete, no temporary file is left under a name an input pattern (``*.837``) would match, and
the next run in the same folder sweeps away what the killed runs left.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "bench" / "gen837.py"
KILLS = 8


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "edi837", *args]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("kill") / "big.837"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--claims", "1500", "--out", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def kill_at_random(args: list[str], cwd: Path, seed: int) -> int:
    """Run ``args`` ``KILLS`` times, each killed after a random delay; return completed runs."""
    rng = random.Random(seed)
    completed = 0
    for _ in range(KILLS):
        process = subprocess.Popen(
            args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, 1.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        else:
            completed += 1
        process.wait()
    return completed


def visible_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def test_fix_killed_leaves_no_half_output_and_no_input_shaped_temporary(
    big: Path, tmp_path: Path
) -> None:
    reference = tmp_path / "reference.837"
    subprocess.run(command("fix", str(big), "-o", str(reference)), check=False)
    out = tmp_path / "out.837"
    kill_at_random(command("fix", str(big), "-o", str(out)), tmp_path, seed=7)
    assert visible_files(tmp_path) <= {"reference.837", "out.837"}
    if out.exists():
        assert out.read_bytes() == reference.read_bytes()
    subprocess.run(command("fix", str(big), "-o", str(out)), check=False)
    assert out.read_bytes() == reference.read_bytes()
    # The finished run swept what the killed ones left (their processes are gone).
    assert [p.name for p in tmp_path.iterdir() if "edi837-tmp" in p.name] == []


def test_split_killed_never_leaves_a_new_file_beside_an_old_one(big: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    subprocess.run(command("split", str(big), "-d", str(reference)), check=False)
    expected = {p.name: p.read_bytes() for p in reference.iterdir()}
    assert set(expected) == {"big.accepted.837", "big.rejected.837"}
    out = tmp_path / "out"
    out.mkdir()
    kill_at_random(command("split", str(big), "-d", str(out)), tmp_path, seed=11)
    for name in visible_files(out):
        assert (out / name).read_bytes() == expected[name], name
    subprocess.run(command("split", str(big), "-d", str(out)), check=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == expected
