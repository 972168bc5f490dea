"""``edi837 ack``: the TA1, 999 and 277CA answering each 837P file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edi837.cli.common import (
    CONTEXT,
    EXIT_ERROR,
    EXIT_OK,
    engine_from,
    expand_inputs,
    fail_on_option,
    guarded,
    note_missing_tables,
    rule_options,
    say,
)
from edi837.reports.escape import escape_text


@click.command(context_settings=CONTEXT)
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the acknowledgements, created if missing (default: the folder of each "
    "FILE; the working folder for -).",
)
@click.option(
    "--types",
    default="ta1,999,277ca",
    show_default=True,
    metavar="TYPES",
    help="Which acknowledgements to write, comma-separated.",
)
@click.option(
    "--control-number",
    type=click.IntRange(1, 999_999_999),
    default=1,
    show_default=True,
    metavar="N",
    help="The first ISA13/GS06 control number; the next ones count up across files.",
)
@click.option(
    "--delimiters",
    metavar="CHARS",
    help="Element separator, component separator, segment terminator and repetition "
    "separator, e.g. '*:~^' (default: those of the input).",
)
@fail_on_option("A claim with a finding at or above this severity is rejected (as by split).")
@rule_options
@guarded
def ack(
    files: tuple[str, ...],
    folder: Path | None,
    types: str,
    control_number: int,
    delimiters: str | None,
    fail_on: str,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """Write DIR/NAME.ta1, DIR/NAME.999 and DIR/NAME.277ca for each FILE (those that apply).

    The 999 (005010X231A1) accepts or rejects each transaction set with the segments and
    elements at fault; the 277CA (005010X214) accepts or rejects each claim of an accepted
    transaction set with its status codes, exactly as split decides; a TA1 is written when
    ISA14 asks for one or the envelope is rejected. Sender and receiver are swapped from the
    input; the creation date is now, or SOURCE_DATE_EPOCH when set. Acknowledgements are never
    acknowledged. Exit code 2 when a FILE cannot be read.
    """
    from edi837.acks import ControlNumbers, parse_delimiters, parse_types, write_acks
    from edi837.acks.model import DelimiterClash
    from edi837.findings import Severity
    from edi837.x12.reader import X12SyntaxError

    try:
        wanted = parse_types(types)
        chosen = parse_delimiters(delimiters) if delimiters is not None else None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    names = expand_inputs(files)
    engine = engine_from(select, ignore, profile, config_path, refdata)
    note_missing_tables(engine)
    counter = ControlNumbers(control_number)
    failed = False
    for file in names:
        where = folder if folder is not None else Path(".") if file == "-" else Path(file).parent
        try:
            where.mkdir(parents=True, exist_ok=True)
            written = write_acks(
                file,
                where,
                engine=engine,
                types=wanted,
                control_number=counter,
                fail_on=Severity(fail_on),
                delimiters=chosen,
            )
        except X12SyntaxError as exc:
            say(exc.describe(file))
            failed = True
            continue
        except DelimiterClash as exc:
            say(f"{file}: {exc}")
            failed = True
            continue
        except OSError as exc:
            say(f"{where}: cannot write the acknowledgements: {exc.strerror or exc}")
            failed = True
            continue
        for path in written:
            click.echo(escape_text(f"{file} -> {path}"))
        if not written:
            click.echo(escape_text(f"{file}: no acknowledgement applies"))
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


COMMANDS = [ack]
