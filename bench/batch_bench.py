"""``make bench``: ``edi837 batch`` with one worker against two, on many files and on one big file.

Generates, with ``bench/gen837.py``:

- 200 files of 100 claims each, every one its own interchange (ISA13 1..200, so none is a
  duplicate of another), run as ``edi837 batch DIR --jobs 1`` and ``--jobs 2``;
- one 100k-claim file holding 20 interchanges, run the same two ways (the batch cuts it at
  ISA boundaries and shares the pieces among the workers).

Each run is a fresh process into an empty output folder (fresh ledger), with the default
outputs (report and split) and ``batch.json``/``batch.html``. Prints files/s, claims/s and the
speed-up ratio, and the CPU seconds of the batch process and its workers (equal work shows as
equal CPU time; a ratio below target with equal CPU means the cores were busy with
something else); the targets (``architecture.md`` §5: ≥ 1.7× for many files, ≥ 1.6× for the
cut file, on 2 cores) are printed next to them, not asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "batch"
EDI837 = Path(sys.executable).parent / "edi837"

sys.path.insert(0, str(ROOT / "bench"))
import gen837  # noqa: E402


def generate_many(folder: Path, files: int, claims: int) -> None:
    """``files`` files of ``claims`` claims, each with its own ISA13 and seed."""
    if folder.is_dir() and len(list(folder.glob("*.837"))) == files:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for number in range(1, files + 1):
        target = folder / f"claims-{number:04d}.837"
        with contextlib.redirect_stderr(io.StringIO()):  # one "N claims" line per file
            _generate(
                [
                    "--claims",
                    str(claims),
                    "--seed",
                    str(number),
                    "--control",
                    str(number),
                    "--out",
                    str(target),
                ]
            )


def _generate(argv: list[str]) -> None:
    gen837.main(argv)


def generate_big(target: Path, claims: int, interchanges: int) -> None:
    """One file of ``claims`` claims in ``interchanges`` interchanges."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    gen837.main(
        [
            "--claims",
            str(claims),
            "--interchanges",
            str(interchanges),
            "--seed",
            "7",
            "--out",
            str(target),
        ]
    )


def run(inputs: Path, jobs: int) -> tuple[float, float, dict[str, object]]:
    """Wall and CPU seconds of one ``edi837 batch`` (workers included), and its summary."""
    outdir = OUT / f"run-jobs{jobs}"
    shutil.rmtree(outdir, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(EDI837), "batch", str(inputs), "-o", str(outdir), "--jobs", str(jobs)],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"edi837 batch failed ({done.returncode}): {done.stderr.strip()}")
    summary = json.loads((outdir / "batch.json").read_text())["summary"]
    return seconds, cpu, summary


def compare(label: str, inputs: Path, target: float) -> None:
    """Run with one and two workers and print the rates and the ratio."""
    results = {}
    for jobs in (1, 2):
        seconds, cpu, summary = run(inputs, jobs)
        results[jobs] = seconds
        files = int(str(summary["files"]))
        claims = int(str(summary["claims"]))
        print(
            f"  {label} --jobs {jobs}: {seconds:7.2f} s  {files / seconds:8.1f} files/s  "
            f"{claims / seconds:9.0f} claims/s  cpu {cpu:7.2f} s  ({files} files, {claims} claims)"
        )
    ratio = results[1] / results[2]
    print(f"  {label} speed-up --jobs 2 / --jobs 1: {ratio:.2f}x (target >= {target}x)")
    load = os.getloadavg()[0]
    print(f"  (load average {load:.1f} on {os.cpu_count()} cores; other work slows --jobs 2 most)")


def main(argv: list[str] | None = None) -> int:
    """Generate the inputs (once; kept in bench/out/batch) and print the comparisons."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--claims-per-file", type=int, default=100)
    parser.add_argument("--big-claims", type=int, default=100_000)
    parser.add_argument("--interchanges", type=int, default=20)
    args = parser.parse_args(argv)
    many = OUT / f"files-{args.files}x{args.claims_per_file}"
    big = OUT / f"big-{args.big_claims}-{args.interchanges}" / "big.837"
    generate_many(many, args.files, args.claims_per_file)
    generate_big(big, args.big_claims, args.interchanges)
    print(f"edi837 batch, report and split outputs, {sys.platform}, wall time per process:")
    compare(f"{args.files} files", many, 1.7)
    compare(f"1 file of {args.big_claims} claims in {args.interchanges} interchanges", big, 1.6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
