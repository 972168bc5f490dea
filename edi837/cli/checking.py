"""``edi837 check``: findings for every input, as text, JSON, CSV or an HTML page.

Results stream: each file's report is written as soon as it is checked, straight into the
output file (written atomically) or standard output, so a large run holds only running totals.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edi837.cli.common import (
    CONTEXT,
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    engine_from,
    expand_inputs,
    fail_on_option,
    format_option,
    guarded,
    note_missing_tables,
    progress,
    redact_option,
    rule_options,
    say,
)

if TYPE_CHECKING:
    from edi837.engine import FileResult


@click.command(context_settings=CONTEXT)
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@format_option(["text", "json", "csv", "html"], "text", "Report format.")
@click.option("-o", "--output", metavar="OUT", help="Write the report to OUT.")
@fail_on_option()
@redact_option
@rule_options
@guarded
def check(
    files: tuple[str, ...],
    fmt: str,
    output: str | None,
    fail_on: str,
    redact: bool,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """Check 837P files and report findings by claim, line, segment and element.

    FILE may be - for standard input or a folder (its 837 files are checked). Unreadable
    files are reported on standard error and the others are still checked.
    """
    from edi837 import api
    from edi837.finding_spool import KEEP
    from edi837.findings import Severity

    names = expand_inputs(files)
    target = api.writable_path(Path(output)) if output not in (None, "-") else None
    engine = engine_from(select, ignore, profile, config_path, refdata)
    threshold = Severity(fail_on)
    outcome = {"error": False, "findings": False}
    keep = KEEP if fmt in ("json", "csv") else None

    def results() -> Iterator[FileResult]:
        for name in progress(names, "checking"):
            # JSON and CSV write each file's findings once, in order, after its counts: past
            # a bound they wait on disk, so a file of a million claims is not held in memory.
            result = api.check(name, engine=engine, detail=fmt == "html", keep_findings=keep)
            if result.status == "error" and result.error:
                say(result.error)
            for notice in result.notices:
                say(f"{name}: {notice}")
            outcome["error"] = outcome["error"] or result.status == "error"
            outcome["findings"] = outcome["findings"] or result.fails(threshold)
            yield result

    if target is None:
        _report(results(), fmt, None, redact)
    else:
        from edi837.x12.writer import atomic_output

        first = next((Path(n) for n in names if n != "-"), None)
        # The report quotes claims: it gets the permission bits of the input it reports on.
        with atomic_output(target, like=first) as handle:
            _report(results(), fmt, handle, redact)
    note_missing_tables(engine)
    if outcome["error"]:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if outcome["findings"] else EXIT_OK)


def _report(results: Iterator[FileResult], fmt: str, handle: object, redact: bool) -> None:
    """Write the report in ``fmt`` to ``handle`` (a binary file) or, when None, standard output."""
    from typing import BinaryIO, cast

    from edi837.reports.csv_report import write_csv
    from edi837.reports.json_report import write_json
    from edi837.reports.text import write_text, write_text_to

    out = cast(BinaryIO, handle) if handle is not None else sys.stdout.buffer
    if fmt == "json":
        write_json(results, out, redact=redact)
    elif fmt == "csv":
        write_csv(results, out, redact=redact)
    elif fmt == "html":
        from edi837.reports.html import write_html

        write_html(results, out, redact=redact)
    elif handle is not None:
        write_text_to(results, out, redact=redact)
    else:
        # On a terminal, click keeps the colours; in a pipe it strips them.
        for line in write_text(results, redact=redact):
            click.echo(line)
    if handle is None:
        sys.stdout.flush()


COMMANDS = [check]
