"""``edi837 ack``: the TA1, 999 and 277CA answering each 837P file.

With ``--ledger`` the control numbers come from the ledger's counter (shared with ``batch``
and ``watch``), and a file the ledger has as done gets its claims' payer claim control
numbers (REF*1K) from there; without it they count up from ``--control-number``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from edi837.acks import Reserve
    from edi837.ops.ledger import Ledger


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
    default=None,
    metavar="N",
    help="The first ISA13/GS06 control number; the next ones count up across files "
    "(default: 1, or the ledger's counter with --ledger).",
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Take the control numbers from this ledger's counter (the one batch and watch use; "
    "created if missing), and REF*1K from the claims it recorded for the file.",
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
    control_number: int | None,
    ledger_path: Path | None,
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
    acknowledged. With --ledger, ISA13/GS06 come from the ledger's counter, never reused.
    Exit code 2 when a FILE cannot be read.
    """
    from edi837.acks import ControlNumbers, parse_delimiters, parse_types, write_acks
    from edi837.acks.model import DelimiterClash
    from edi837.findings import Severity
    from edi837.ops.ledger import Ledger, LedgerError
    from edi837.x12.reader import X12SyntaxError

    if ledger_path is not None and control_number is not None:
        raise click.UsageError("give --control-number or --ledger, not both")
    try:
        wanted = parse_types(types)
        chosen = parse_delimiters(delimiters) if delimiters is not None else None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    names = expand_inputs(files)
    engine = engine_from(select, ignore, profile, config_path, refdata)
    note_missing_tables(engine)
    counter = ControlNumbers(control_number or 1)
    opened: Ledger | None = None
    if ledger_path is not None:
        try:
            opened = Ledger(ledger_path)
        except LedgerError as exc:
            say(str(exc))
            sys.exit(EXIT_ERROR)
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
                reserve=_from_ledger(opened, file) if opened is not None else None,
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
    if opened is not None:
        opened.close()
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


def _from_ledger(ledger: Ledger, file: str) -> Reserve:
    """Numbers for ``file`` from ``ledger``.

    A reserved block of control numbers, and the payer claim control numbers of its claims
    when the ledger has the file as done.
    """
    from edi837.acks import ControlNumbers, Numbers, control_numbers_needed
    from edi837.acks.intake import Intake
    from edi837.ops.inbox import sha256_of
    from edi837.ops.ledger import CONTROL

    def reserve(intake: Intake) -> Numbers:
        first = ledger.reserve({CONTROL: control_numbers_needed(intake)})
        claims: dict[int, str] = {}
        if file != "-":
            # Standard input has no content the ledger could have recorded under a digest.
            claims = ledger.claim_numbers(sha256_of(Path(file)))
        return Numbers(ControlNumbers(first[CONTROL]), claims)

    return reserve


COMMANDS = [ack]
