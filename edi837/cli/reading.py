"""``edi837 parse``: the 837P loop tree of a file as JSON, XML or one line per segment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from edi837.cli.common import CONTEXT, EXIT_ERROR, format_option, guarded, say


@click.command(context_settings=CONTEXT)
@click.argument("file", metavar="FILE")
@format_option(
    ["json", "xml", "tsv"],
    "json",
    "Loop tree as JSON, as XML, or one line per segment (number, loop id, text).",
)
@click.option("-o", "--output", metavar="OUT", help="Write to OUT instead of standard output.")
@click.option(
    "--no-output",
    is_flag=True,
    help="Build the tree and check the structure, print nothing (for timing).",
)
@guarded
def parse(file: str, fmt: str, output: str | None, no_output: bool) -> None:
    """Print the 837P loop tree of FILE (- for standard input).

    Loop ids are pyx12's: ISA_LOOP, GS_LOOP, ST_LOOP, HEADER, 1000A, 2000A, 2010AA ... 2300,
    2400, 2410. Transactions that are not 837P are skipped with a note on standard error.
    """
    from edi837.findings import Finding
    from edi837.reports import tree
    from edi837.source import Source
    from edi837.x12.reader import X12SyntaxError
    from edi837.x837p.builder import Placed, Unit

    problems: dict[str, int] = {}
    notices: list[str] = []

    def count(findings: list[Finding]) -> None:
        for finding in findings:
            problems[finding.code] = problems.get(finding.code, 0) + 1

    def units() -> Iterator[Unit]:
        src = Source(file)
        with src.open_once() as stream:
            read = src.units(stream)
            for unit in read:
                if unit.notice:
                    notices.append(unit.notice)
                if unit.findings:
                    count(unit.findings)
                yield unit
            read.require_837p()

    def placed() -> Iterator[Placed]:
        # The units' own (segment, placement) pairs, handed on a claim at a time: a wrapper
        # per segment would cost more than a tree writer's own work on it.
        for unit in units():
            yield from unit.segments

    try:
        if no_output:
            for _ in units():
                pass
        else:
            writers = {
                "xml": lambda out: tree.write_xml(placed(), out, file),
                "json": lambda out: tree.write_json(placed(), out, file),
                "tsv": lambda out: tree.write_tsv(placed(), out),
            }
            if output is None or output == "-":
                writers[fmt](sys.stdout.buffer)
                sys.stdout.flush()
            else:
                from edi837.api import writable_path
                from edi837.x12.writer import atomic_output

                # Streamed into the output file as the input is read: memory stays flat.
                with atomic_output(writable_path(Path(output))) as binary:
                    writers[fmt](binary)
    except X12SyntaxError as exc:
        sys.stdout.flush()
        for notice in notices:
            say(f"{file}: {notice}")
        say(exc.describe(file))
        sys.exit(EXIT_ERROR)
    for notice in notices:
        say(f"{file}: {notice}")
    if problems:
        # The tree is still printed: parse shows structure, check judges it.
        codes = ", ".join(f"{code} x{n}" if n > 1 else code for code, n in sorted(problems.items()))
        total = sum(problems.values())
        say(
            f"{file}: {total} envelope/structure finding{'s' if total != 1 else ''} "
            f"({codes}); run `edi837 check` for details"
        )


COMMANDS = [parse]
