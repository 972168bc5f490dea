"""``edi837 split``: accepted claims to send on, rejected claims to return."""

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
    guarded,
    note_missing_tables,
    rule_options,
    say,
)
from edi837.reports.escape import escape_text


@click.command(context_settings=CONTEXT)
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option(
    "-d",
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the outputs, created if missing (default: the folder of each FILE; "
    "the working folder for -).",
)
@click.option(
    "--name",
    metavar="NAME",
    help="Base name of the outputs (default: FILE without its extension; stdin for -). "
    "Only with one FILE.",
)
@fail_on_option("A claim with a finding at or above this severity goes to the rejected file.")
@rule_options
@guarded
def split(
    files: tuple[str, ...],
    folder: Path | None,
    name: str | None,
    fail_on: str,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """Split each FILE into DIR/NAME.accepted.837 and DIR/NAME.rejected.837, claim by claim.

    A claim with no finding at or above --fail-on is accepted; the others are rejected, so
    the first file can be sent on and the second returned. Each output is a complete
    interchange with the input's control numbers: every claim keeps its billing provider,
    subscriber and patient levels, HL numbers are renumbered per transaction set, and
    SE01/GE01/IEA01 are recounted. A finding outside any claim (an HL level, a transaction
    header, an envelope) rejects every claim of that level. An output that would hold no claim
    is not written. Every CLM of the input lands in exactly one output, or nothing is written
    and the command exits 2. Exit code 1 when any claim was rejected.
    """
    from edi837 import api
    from edi837.findings import Severity
    from edi837.x12.reader import X12SyntaxError

    names = expand_inputs(files)
    if name is not None and len(names) > 1:
        raise click.UsageError("--name names the outputs of one FILE")
    if name is not None and (name in ("", ".", "..") or Path(name).name != name):
        raise click.UsageError("--name must be a file name, without a folder")
    engine = engine_from(select, ignore, profile, config_path, refdata)
    failed = rejected = False
    for file in names:
        where = folder if folder is not None else Path(".") if file == "-" else Path(file).parent
        try:
            result = api.split(file, where, name=name, fail_on=Severity(fail_on), engine=engine)
        except X12SyntaxError as exc:
            say(exc.describe(file))
            failed = True
            continue
        except OSError as exc:
            say(f"{where}: cannot write the outputs: {exc.strerror or exc}")
            failed = True
            continue
        plan = result.plan
        for notice in plan.notices:
            say(f"{file}: {notice}")
        rejected = rejected or result.rejected > 0
        for kind, count, path in (
            ("accepted", result.accepted, result.accepted_path),
            ("rejected", result.rejected, result.rejected_path),
        ):
            if count:
                noun = "claim" if count == 1 else "claims"
                click.echo(escape_text(f"{count} {noun} {kind} -> {path}"))
            else:
                removed = (
                    " (the one of an earlier split was removed)" if path in result.removed else ""
                )
                click.echo(escape_text(f"no claim {kind}; {path.name} not written{removed}"))
            if kind == "rejected":
                for rejection in plan.rejections:
                    # The level names its ST02 or HL01, data that may hold a line break.
                    click.echo(f"  {escape_text(rejection.describe())}")
                if plan.more_rejections:
                    click.echo(f"  ... and {plan.more_rejections} more levels")
    note_missing_tables(engine)
    if failed:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if rejected else EXIT_OK)


COMMANDS = [split]
