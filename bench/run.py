"""``make bench``: edi837's speed and memory against baselines measured in the same run.

Generates claim files with ``bench/gen837.py`` (made once under ``bench/out`` and reused):
every claim an injection encounter at 1k, 10k and 100k claims (and 1M with ``--huge``, which
``make bench-large`` passes), plus a 100k-claim ``--mix`` file where about one claim in ten is
an injection and the rest visits, labs and imaging. Each measurement is a fresh process, so
start-up and peak RSS are real, and the best of ``--repeat`` runs is kept:

- a plain ``str.split`` pass over the same bytes (split on ``~``, then on ``*``): the floor;
- ``edi837 parse --no-output`` (tokenize, place every segment in its loop, build claims);
- ``edi837 check -f json`` with every rule on;
- the same parse and check with the optional compiled build (mypyc) when ``make compiled`` has
  made ``.venv-compiled``, printed as ratios to the same split loop beside the pure ones;
- start-up: ``edi837 check`` on a one-claim sample and ``edi837 --help``;
- pyx12's ``X12Reader`` and ``x12valid``, and x12sdk's model parse, on the 10k file (they are
  much slower), compared by throughput (claims per second).

Every edi837 process is a single process on one core (no worker pool). Prints numbers and
the targets beside them, never verdicts.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
#: The optional compiled build's ``edi837`` (``make compiled``); its rows are skipped without it.
COMPILED_EDI837 = ROOT / ".venv-compiled" / "bin" / "edi837"

SPLIT = (
    "import sys\n"
    "data = open(sys.argv[1], 'rb').read().decode('latin-1')\n"
    "n = 0\n"
    "for seg in data.split('~'):\n"
    "    n += len(seg.split('*'))\n"
)
PYX12_READER = (
    "import sys\n"
    "from pyx12.x12file import X12Reader\n"
    "n = 0\n"
    "with open(sys.argv[1]) as fd:\n"
    "    for seg in X12Reader(fd):\n"
    "        n += 1\n"
)
X12SDK = (
    "import sys\n"
    "from x12sdk.io import X12ModelReader\n"
    "with X12ModelReader(sys.argv[1]) as r:\n"
    "    for model in r.models():\n"
    "        pass\n"
)

#: The output paths whose memory is measured: (command, format), each written with -o.
OUTPUT_PATHS = [
    ("check", "text"),
    ("check", "json"),
    ("check", "csv"),
    ("check", "html"),
    ("parse", "json"),
    ("parse", "xml"),
    ("parse", "tsv"),
]

#: The targets of the speed work, printed beside the numbers.
CHECK_TARGET = 8.0
PARSE_TARGET = 4.0
STARTUP_TARGET = 0.2
HELP_TARGET = 0.1
RSS_TARGET = 1.2
RSS_HUGE_TARGET = 1.3


# An installed package has its bytecode compiled; a shell that forbids writing it would time
# Python compiling every module at each start instead of edi837 starting.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Run:
    """One timed process: wall seconds (best of the repeats) and peak RSS in MiB."""

    seconds: float
    rss_mib: float
    ok: bool = True


def timed(argv: list[str], repeat: int = 1, ok_codes: tuple[int, ...] = (0, 1)) -> Run:
    """Run ``argv`` ``repeat`` times; keep the fastest time and the largest peak RSS."""
    best = float("inf")
    rss = 0.0
    ok = True
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENVIRONMENT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        assert proc.stderr is not None
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        code = os.waitstatus_to_exitcode(status)
        if code not in ok_codes:
            ok = False
            print(f"  ! {' '.join(argv[:3])} exited {code}: {err.strip()[:300]}")
        best = min(best, elapsed)
        rss = max(rss, usage.ru_maxrss / 1024)  # Linux reports KiB
    return Run(best, rss, ok)


def generate(claims: int, mix: bool = False) -> Path:
    """The generated file with ``claims`` claims (made once, reused by later runs)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{'mix' if mix else 'claims'}-{claims}.837"
    if not path.exists():
        argv = [sys.executable, str(ROOT / "bench" / "gen837.py"), "--claims", str(claims)]
        argv += ["--out", str(path), "--seed", "837"] + (["--mix"] if mix else [])
        subprocess.run(argv, check=True, stderr=subprocess.DEVNULL)
    return path


def label_of(claims: int) -> str:
    """``1k``, ``100k``, ``1M``: the size as the table prints it."""
    if claims >= 1_000_000 and claims % 1_000_000 == 0:
        return f"{claims // 1_000_000}M"
    return f"{claims // 1000}k" if claims >= 1000 else str(claims)


def output_memory(files: list[tuple[str, Path]], edi837: str) -> None:
    """Peak RSS of every output path written with ``-o`` (reports stream into their files)."""
    target = OUT / "output.tmp"
    labels = [label for label, _ in files]
    print()
    print("peak RSS of output paths (-o FILE), MiB")
    head = " ".join(f"{label:>10}" for label in labels)
    print(f"{'path':<16} {head} {labels[-1] + '/' + labels[0]:>12}")
    for command, fmt in OUTPUT_PATHS:
        rss = [
            timed([edi837, command, "-f", fmt, str(path), "-o", str(target)]).rss_mib
            for _, path in files
        ]
        cells = " ".join(f"{v:10.1f}" for v in rss)
        print(f"{command + ' -f ' + fmt:<16} {cells} {rss[-1] / rss[0]:11.2f}x", flush=True)
    target.unlink(missing_ok=True)


def compiled_rows(
    files: list[tuple[str, int, Path]], results: dict[str, dict[str, Run]], repeat: int
) -> None:
    """Parse and check with the compiled build, as ratios to the split loop timed above."""
    if not COMPILED_EDI837.exists():
        print("compiled build: .venv-compiled is absent (make compiled); its rows are skipped")
        return
    print()
    print("compiled build (mypyc, .venv-compiled) beside the pure one, ratios to the split loop")
    print(
        f"{'file':<9} {'parse s':>8} {'pure':>7} {'compiled':>9} "
        f"{'check s':>8} {'pure':>7} {'compiled':>9}"
    )
    edi837 = str(COMPILED_EDI837)
    for label, _, path in files:
        r = results[label]
        split = r["split"].seconds
        parse = timed([edi837, "parse", "--no-output", str(path)], repeat)
        check = timed([edi837, "check", "-f", "json", str(path)], repeat)
        r["compiled parse"], r["compiled check"] = parse, check
        print(
            f"{label:<9} {parse.seconds:8.2f} {r['parse'].seconds / split:6.2f}x "
            f"{parse.seconds / split:8.2f}x {check.seconds:8.2f} "
            f"{r['check'].seconds / split:6.2f}x {check.seconds / split:8.2f}x",
            flush=True,
        )


def main() -> int:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="claim counts, comma-separated"
    )
    parser.add_argument("--huge", action="store_true", help="add the 1M-claim file")
    parser.add_argument("--repeat", type=int, default=2, help="timing repeats (best is kept)")
    parser.add_argument("--skip-slow", action="store_true", help="skip pyx12 and x12sdk")
    parser.add_argument(
        "--outputs-only", action="store_true", help="only the memory of the output paths"
    )
    args = parser.parse_args()

    edi837 = str(BIN / "edi837")
    if args.outputs_only:
        output_memory([("10k", generate(10_000)), ("100k", generate(100_000))], edi837)
        return 0
    py = sys.executable
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.huge:
        sizes.append(1_000_000)
    largest = max(n for n in sizes if n <= 100_000)
    files: list[tuple[str, int, Path]] = [(f"inj-{label_of(n)}", n, generate(n)) for n in sizes]
    files.insert(
        sizes.index(largest) + 1, (f"mix-{label_of(largest)}", largest, generate(largest, True))
    )
    sample = ROOT / "samples" / "clean-injection.837"

    results: dict[str, dict[str, Run]] = {}
    print(
        f"{'file':<9} {'MB':>6} {'split s':>8} {'parse s':>8} {'parse/split':>11} "
        f"{'check s':>8} {'check/split':>11} {'parse cl/s':>10} {'check cl/s':>10} "
        f"{'parse RSS':>10} {'check RSS':>10}"
    )
    for label, claims, path in files:
        r = results.setdefault(label, {})
        r["split"] = timed([py, "-c", SPLIT, str(path)], args.repeat)
        r["parse"] = timed([edi837, "parse", "--no-output", str(path)], args.repeat)
        r["check"] = timed([edi837, "check", "-f", "json", str(path)], args.repeat)
        print(
            f"{label:<9} {path.stat().st_size / 1e6:6.1f} {r['split'].seconds:8.2f} "
            f"{r['parse'].seconds:8.2f} {r['parse'].seconds / r['split'].seconds:10.2f}x "
            f"{r['check'].seconds:8.2f} {r['check'].seconds / r['split'].seconds:10.2f}x "
            f"{claims / r['parse'].seconds:10,.0f} {claims / r['check'].seconds:10,.0f} "
            f"{r['parse'].rss_mib:8.1f}Mi {r['check'].rss_mib:8.1f}Mi",
            flush=True,
        )
    print(
        f"targets at {label_of(largest)}: parse/split <= {PARSE_TARGET:.0f}x, "
        f"check/split <= {CHECK_TARGET:.0f}x (one process, every rule on)"
    )

    compiled_rows(files, results, args.repeat)

    def rss_ratio(big: str, small: str, target: float) -> None:
        if big in results and small in results:
            b, s = results[big], results[small]
            parse = b["parse"].rss_mib / s["parse"].rss_mib
            check = b["check"].rss_mib / s["check"].rss_mib
            print(
                f"peak RSS {big[4:]}/{small[4:]}: parse {parse:.2f}x, "
                f"check {check:.2f}x (target <= {target:.1f}x)"
            )

    rss_ratio("inj-100k", "inj-10k", RSS_TARGET)
    rss_ratio("inj-1M", "inj-10k", RSS_HUGE_TARGET)

    startup = timed([edi837, "check", str(sample)], max(args.repeat, 3))
    helped = timed([edi837, "--help"], max(args.repeat, 3), ok_codes=(0,))
    print(
        f"start-up: edi837 check on a one-claim file {startup.seconds:.3f} s "
        f"(target <= {STARTUP_TARGET} s); edi837 --help {helped.seconds:.3f} s "
        f"(target <= {HELP_TARGET} s)"
    )

    memory_files = [(label, path) for label, _, path in files if label in ("inj-10k", "inj-100k")]
    if len(memory_files) == 2:
        output_memory(memory_files, edi837)

    if args.skip_slow or "inj-10k" not in results or f"inj-{label_of(largest)}" not in results:
        return 0
    small = next(path for label, _, path in files if label == "inj-10k")
    large_r = results[f"inj-{label_of(largest)}"]
    others: list[tuple[str, list[str], str, float]] = [
        ("pyx12 X12Reader", [py, "-c", PYX12_READER, str(small)], "parse", 0.0),
    ]
    x12valid = shutil.which("x12valid", path=str(BIN))
    if x12valid:
        others.append(("pyx12 x12valid", [x12valid, "-q", str(small)], "check", 100.0))
    if importlib.util.find_spec("x12sdk") is not None:
        others.append(("x12sdk model parse", [py, "-c", X12SDK, str(small)], "check", 50.0))
    else:
        print("x12sdk is not installed: its comparison is skipped")
    for name, argv, compared, target in others:
        run = timed(argv, 1, ok_codes=(0, 1, 2, 3, 4, 5))
        theirs = 10_000 / run.seconds
        # edi837's claims/s on the largest file against theirs on the 10k one (they are slow).
        ours = largest / large_r[compared].seconds
        compiled = large_r.get(f"compiled {compared}")
        also = f", compiled {largest / compiled.seconds / theirs:,.1f}x" if compiled else ""
        wanted = f" (target >= {target:.0f}x)" if target else ""
        print(
            f"{name:<20} {run.seconds:8.2f} s on 10k = {theirs:10,.0f} claims/s; "
            f"edi837 {compared} is {ours / theirs:,.1f}x faster{also}{wanted}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
