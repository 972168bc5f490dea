"""``edi837 fix``: apply the allowed fixes and write a file that can be submitted."""

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
    rule_options,
    say,
)


@click.command(context_settings=CONTEXT)
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option(
    "-o", "--output", metavar="OUT", help="Write the corrected file to OUT (- for stdout)."
)
@click.option(
    "--in-place",
    is_flag=True,
    help="Replace each FILE, keeping the original as FILE.orig (FILE.orig.1 ... when an "
    "earlier original exists; it is never overwritten). A symlink is fixed through: the file "
    "it points to is replaced and the link stays.",
)
@click.option("--unsafe-fixes", is_flag=True, help="Also apply unsafe fixes that have edits.")
@click.option("--diff", is_flag=True, help="Print a unified diff by segment instead of writing.")
@click.option("--log", "log_path", metavar="FILE", help="Write every edit as JSON to FILE.")
@click.option(
    "--redact", is_flag=True, help="Mask patient data (NM1, N3, N4, DMG, REF, PER) in the --log."
)
@fail_on_option("Exit 1 when a finding at or above this severity remains after fixing.")
@rule_options
@guarded
def fix(
    files: tuple[str, ...],
    output: str | None,
    in_place: bool,
    unsafe_fixes: bool,
    diff: bool,
    log_path: str | None,
    redact: bool,
    fail_on: str,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """Apply the safe fixes to each FILE (unsafe ones only with --unsafe-fixes).

    Re-checks and repeats until nothing changes. Delimiters, line breaks, encoding, envelope
    and control numbers are kept; SE01 is recounted where segments were added or removed.
    One FILE is written to standard output unless -o or --in-place is given; several FILEs
    (or a folder) need --in-place or --diff. Files are written atomically, never half-way.
    Exit code 0 when nothing at or above --fail-on remains, 1 when something does, 2 for
    input that cannot be fixed.
    """
    from edi837 import api
    from edi837.findings import Severity
    from edi837.x12.reader import X12SyntaxError

    names = expand_inputs(files)
    if in_place and output is not None:
        raise click.UsageError("--in-place writes back to each FILE; give no -o")
    if in_place and "-" in names:
        raise click.UsageError("--in-place needs named files, not standard input")
    if len(names) > 1 and not (in_place or diff):
        raise click.UsageError("several files need --in-place or --diff")
    if len(names) > 1 and log_path is not None:
        raise click.UsageError("--log takes the edits of one FILE")
    engine = engine_from(select, ignore, profile, config_path, refdata)
    threshold = Severity(fail_on)
    failed = findings = False
    for name in names:
        try:
            if diff:
                result, lines = api.fix_diff(name, unsafe=unsafe_fixes, engine=engine)
                for line in lines:
                    click.echo(line)
            elif in_place:
                result = api.fix(
                    name,
                    in_place=True,
                    unsafe=unsafe_fixes,
                    engine=engine,
                    log=log_path,
                    redact_log=redact,
                )
            elif output is not None and output != "-":
                result = api.fix(
                    name,
                    output,
                    unsafe=unsafe_fixes,
                    engine=engine,
                    log=log_path,
                    redact_log=redact,
                )
            else:
                result = api.fix(
                    name,
                    sys.stdout.buffer,
                    unsafe=unsafe_fixes,
                    engine=engine,
                    log=log_path,
                    redact_log=redact,
                )
        except X12SyntaxError as exc:
            say(exc.describe(name))
            failed = True
            continue
        findings = findings or result.fails(threshold)
        more = result.remaining_unsafe
        hint = f" ({more} more fixable with --unsafe-fixes)" if more and not unsafe_fixes else ""
        stopped = {
            "runaway": "; stopped after the maximum number of passes",
            "oscillation": "; stopped: two fixes undo each other",
        }.get(result.stopped or "", "")
        kept = f"; original kept as {result.original}" if result.original else ""
        prefix = f"{name}: " if len(names) > 1 else ""
        say(f"{prefix}{result.fixed} fixed, {len(result.remaining)} remaining{hint}{stopped}{kept}")
    if failed:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if findings else EXIT_OK)


COMMANDS = [fix]
