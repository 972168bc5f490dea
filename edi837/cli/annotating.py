"""``edi837 annotate``: every segment on its own line, findings under the segments."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edi837.cli.common import (
    CONTEXT,
    EXIT_ERROR,
    engine_from,
    expand_inputs,
    guarded,
    redact_option,
    rule_options,
    say,
)


@click.command(context_settings=CONTEXT)
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    metavar="OUT",
    help="Write the listing to OUT (- for standard output); only with one FILE.",
)
@click.option(
    "-d",
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each listing to DIR/NAME.annotated.txt instead of standard output.",
)
@redact_option
@rule_options
@guarded
def annotate(
    files: tuple[str, ...],
    output: str | None,
    folder: Path | None,
    redact: bool,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """List each FILE one segment per line, with findings under the segments they point at.

    Annotation lines start with '#': a caret under the offending element with the code,
    severity and message, then the fix. Drop them (and, for a file written on one line, the
    line breaks the header names) to get the input back byte for byte. The listing is in the
    input's encoding; files are written atomically. With --redact, or on a terminal (control
    characters escaped), the header says the round trip no longer holds.
    """
    from edi837 import api
    from edi837.x12.reader import X12SyntaxError

    names = expand_inputs(files)
    if output is not None and (len(names) > 1 or folder is not None):
        raise click.UsageError("-o names the listing of one FILE; use -d DIR for several")
    engine = engine_from(select, ignore, profile, config_path, refdata)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    failed = False
    for file in names:
        try:
            if folder is not None:
                stem = "stdin" if file == "-" else Path(file).stem
                summary = api.annotate(
                    file, folder / f"{stem}.annotated.txt", engine=engine, redact=redact
                )
            elif output is None or output == "-":
                sys.stdout.flush()
                # On a terminal, control characters inside segments are shown as escapes so
                # that a value in the file cannot drive the terminal.
                summary = api.annotate(
                    file,
                    sys.stdout.buffer,
                    engine=engine,
                    redact=redact,
                    escape_controls=sys.stdout.isatty(),
                )
                sys.stdout.buffer.flush()
            else:
                summary = api.annotate(file, output, engine=engine, redact=redact)
        except X12SyntaxError as exc:
            say(exc.describe(file))
            failed = True
            continue
        for notice in summary.notices:
            say(f"{file}: {notice}")
    if failed:
        sys.exit(EXIT_ERROR)


COMMANDS = [annotate]
