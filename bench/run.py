"""``make bench``: edi837's speed and memory against baselines measured in the same run.

Generates 10k- and 100k-claim files with ``bench/gen837.py``, then times, each in a fresh
process so that start-up and peak RSS are real:

- a plain ``str.split`` pass over the same bytes (split on ``~``, then on ``*``): the floor;
- ``edi837 parse --no-output`` (tokenize, place every segment in its loop, build claims);
- ``edi837 check`` with every rule on;
- pyx12's ``X12Reader`` and ``x12valid``, and x12sdk's model parse, on the 10k file (they are
  much slower), compared by throughput (claims per second);
- peak RSS of every output path (``check -f text|json|csv|html -o``, ``parse -f
  json|xml|tsv -o``) on both files, through the command line and through the library's
  streaming writers (:data:`LIBRARY_OUTPUT`, what the command line does once it writes
  reports as they are produced): flat from 10k to 100k claims means the output streams.

Prints ratios, not verdicts: the targets are in ``architecture.md`` §5.
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

# One output path through the library: results and segments streamed into the writers, which
# write to the file of atomic_output as they go.
LIBRARY_OUTPUT = (
    "import sys\n"
    "from pathlib import Path\n"
    "from edi837.x12.writer import atomic_output\n"
    "command, fmt, source, target = sys.argv[1:5]\n"
    "if command == 'check':\n"
    "    from edi837.engine import Engine\n"
    "    from edi837.reports import csv_report, html, json_report, text\n"
    "    engine = Engine()\n"
    "    results = (engine.check_path(name, detail=fmt == 'html') for name in [source])\n"
    "    write = {'json': json_report.write_json, 'csv': csv_report.write_csv,\n"
    "             'html': html.write_html, 'text': text.write_text_to}[fmt]\n"
    "    with atomic_output(Path(target), like=source) as out:\n"
    "        write(results, out)\n"
    "else:\n"
    "    from edi837.reports import tree\n"
    "    from edi837.x12.reader import SegmentReader, open_source\n"
    "    from edi837.x837p.builder import UnitReader\n"
    "    units = UnitReader(SegmentReader(open_source(source), source))\n"
    "    placed = (p for unit in units for p in unit.segments)\n"
    "    with atomic_output(Path(target), like=source) as out:\n"
    "        if fmt == 'tsv':\n"
    "            tree.write_tsv(placed, out)\n"
    "        elif fmt == 'json':\n"
    "            tree.write_json(placed, out, source)\n"
    "        else:\n"
    "            tree.write_xml(placed, out, source)\n"
)

#: The output paths measured: (command, format).
OUTPUT_PATHS = [
    ("check", "text"),
    ("check", "json"),
    ("check", "csv"),
    ("check", "html"),
    ("parse", "json"),
    ("parse", "xml"),
    ("parse", "tsv"),
]


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
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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


def generate(claims: int) -> Path:
    """The generated file with ``claims`` claims (made once, reused by later runs)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"claims-{claims}.837"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "gen837.py"),
                "--claims",
                str(claims),
                "--out",
                str(path),
                "--seed",
                "837",
            ],
            check=True,
            stderr=subprocess.DEVNULL,
        )
    return path


def label_of(claims: int) -> str:
    """``10k`` for 10,000 claims."""
    return f"{claims // 1000}k" if claims >= 1000 else str(claims)


def output_memory(files: list[tuple[str, Path]], edi837: str) -> None:
    """Peak RSS of every output path, by the command line and by the streaming library."""
    target = OUT / "output.tmp"
    labels = [label for label, _ in files]
    print()
    print("peak RSS of output paths (-o FILE), MiB")
    head = " ".join(f"{'cli ' + label:>10}" for label in labels)
    head += " " + " ".join(f"{'lib ' + label:>10}" for label in labels)
    print(f"{'path':<16} {head} {'lib ' + labels[-1] + '/' + labels[0]:>12}")
    py = sys.executable
    for command, fmt in OUTPUT_PATHS:
        cli = [
            timed([edi837, command, "-f", fmt, str(path), "-o", str(target)]).rss_mib
            for _, path in files
        ]
        lib = [
            timed([py, "-c", LIBRARY_OUTPUT, command, fmt, str(path), str(target)]).rss_mib
            for _, path in files
        ]
        cells = " ".join(f"{v:10.1f}" for v in cli + lib)
        print(f"{command + ' -f ' + fmt:<16} {cells} {lib[-1] / lib[0]:11.2f}x")
    target.unlink(missing_ok=True)


def main() -> int:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, help="claims in the small file")
    parser.add_argument("--large", type=int, default=100_000, help="claims in the large file")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best is kept)")
    parser.add_argument("--skip-slow", action="store_true", help="skip pyx12 and x12sdk")
    parser.add_argument(
        "--outputs-only", action="store_true", help="only the memory of the output paths"
    )
    args = parser.parse_args()

    edi837 = str(BIN / "edi837")
    py = sys.executable
    small, large = generate(args.small), generate(args.large)
    if args.outputs_only:
        output_memory([(label_of(args.small), small), (label_of(args.large), large)], edi837)
        return 0
    sample = ROOT / "samples" / "clean-injection.837"
    print(
        f"files: {small.name} {small.stat().st_size / 1e6:.1f} MB, "
        f"{large.name} {large.stat().st_size / 1e6:.1f} MB"
    )

    small_label, large_label = label_of(args.small), label_of(args.large)
    results: dict[str, dict[str, Run]] = {}
    for label, path in ((small_label, small), (large_label, large)):
        r = results.setdefault(label, {})
        r["split"] = timed([py, "-c", SPLIT, str(path)], args.repeat)
        r["parse"] = timed([edi837, "parse", "--no-output", str(path)], args.repeat)
        r["check"] = timed([edi837, "check", "-f", "json", str(path)], args.repeat)

    print()
    print(
        f"{'file':<6} {'split s':>8} {'parse s':>8} {'parse/split':>11} "
        f"{'check s':>8} {'check/split':>11} {'parse RSS':>10} {'check RSS':>10}"
    )
    for label, r in results.items():
        print(
            f"{label:<6} {r['split'].seconds:8.2f} {r['parse'].seconds:8.2f} "
            f"{r['parse'].seconds / r['split'].seconds:10.2f}x "
            f"{r['check'].seconds:8.2f} {r['check'].seconds / r['split'].seconds:10.2f}x "
            f"{r['parse'].rss_mib:8.1f}Mi {r['check'].rss_mib:8.1f}Mi"
        )
    small_r, large_r = results[small_label], results[large_label]
    parse_rss = large_r["parse"].rss_mib / small_r["parse"].rss_mib
    check_rss = large_r["check"].rss_mib / small_r["check"].rss_mib
    print()
    print(
        f"peak RSS {large_label}/{small_label}: parse {parse_rss:.2f}x, "
        f"check {check_rss:.2f}x (target <= 1.20x)"
    )
    startup = timed([edi837, "check", str(sample)], args.repeat)
    print(f"start-up: edi837 check on a one-claim file {startup.seconds:.2f} s (target < 0.5 s)")
    output_memory([(small_label, small), (large_label, large)], edi837)

    if args.skip_slow:
        return 0
    print()
    ours_parse = args.large / large_r["parse"].seconds
    ours_check = args.large / large_r["check"].seconds
    print(
        f"throughput on {large_label}: parse {ours_parse:,.0f} claims/s, "
        f"check {ours_check:,.0f} claims/s"
    )
    others: list[tuple[str, list[str], float]] = [
        ("pyx12 X12Reader", [py, "-c", PYX12_READER, str(small)], ours_parse),
    ]
    x12valid = shutil.which("x12valid", path=str(BIN))
    if x12valid:
        others.append(("pyx12 x12valid", [x12valid, "-q", str(small)], ours_check))
    if importlib.util.find_spec("x12sdk") is not None:
        others.append(("x12sdk model parse", [py, "-c", X12SDK, str(small)], ours_check))
    else:
        print("x12sdk is not installed: its comparison is skipped")
    for name, argv, ours in others:
        run = timed(argv, 1, ok_codes=(0, 1, 2, 3, 4, 5))
        theirs = args.small / run.seconds
        compared = "parse" if "Reader" in name else "check"
        print(
            f"{name:<20} {run.seconds:8.2f} s on {small_label} = {theirs:10,.0f} claims/s; "
            f"edi837 {compared} is {ours / theirs:,.0f}x faster"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
