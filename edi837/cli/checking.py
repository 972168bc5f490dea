"""``edi837 check``: findings for every input, as text, JSON, CSV or an HTML page."""

from __future__ import annotations

import sys
from pathlib import Path

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
    rule_options,
    say,
    text_target,
)


@click.command(context_settings=CONTEXT)
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@format_option(["text", "json", "csv", "html"], "text", "Report format.")
@click.option("-o", "--output", metavar="OUT", help="Write the report to OUT.")
@fail_on_option()
@rule_options
@guarded
def check(
    files: tuple[str, ...],
    fmt: str,
    output: str | None,
    fail_on: str,
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
    from edi837.engine import FileResult
    from edi837.findings import Severity
    from edi837.reports.csv_report import write_csv
    from edi837.reports.json_report import write_json
    from edi837.reports.text import write_text

    names = expand_inputs(files)
    engine = engine_from(select, ignore, profile, config_path, refdata)
    out, finish = text_target(output)
    results: list[FileResult] = []
    for name in progress(names, "checking"):
        result = api.check(name, engine=engine, detail=fmt == "html")
        if result.status == "error" and result.error:
            say(result.error)
        for notice in result.notices:
            say(f"{name}: {notice}")
        results.append(result)
    if fmt == "json":
        write_json(results, out)
    elif fmt == "csv":
        write_csv(results, out)
    elif fmt == "html":
        from edi837.reports.html import write_html

        write_html(results, out)
    else:
        for line in write_text(results):
            click.echo(line, file=out, color=None if out is sys.stdout else False)
    finish()
    note_missing_tables(engine)
    if any(r.status == "error" for r in results):
        sys.exit(EXIT_ERROR)
    threshold = Severity(fail_on)
    sys.exit(EXIT_FINDINGS if any(r.fails(threshold) for r in results) else EXIT_OK)


COMMANDS = [check]
