"""``edi837 watch``: the folder watcher a cron job or a systemd service runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edi837.cli.common import (
    CONTEXT,
    EXIT_ERROR,
    EXIT_OK,
    ack_options,
    chosen_acks,
    engine_from,
    fail_on_option,
    guarded,
    note_missing_tables,
    rule_options,
    say,
)

if TYPE_CHECKING:
    from edi837.engine import Engine
    from edi837.ops.watch import Handled

OUTPUT_KINDS = ("report", "fixed", "split", "annotated")


def _outputs(value: str) -> frozenset[str]:
    kinds = frozenset(k.strip() for k in value.split(",") if k.strip())
    unknown = sorted(kinds - set(OUTPUT_KINDS))
    if unknown or not kinds:
        raise click.BadParameter(
            f"{', '.join(unknown) or 'nothing'}: choose from {', '.join(OUTPUT_KINDS)}",
            param_hint="--outputs",
        )
    return kinds


def _seconds(name: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise click.BadParameter("must be 0 or more seconds", param_hint=name)


@click.command(context_settings=CONTEXT)
@click.argument("inbox", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    "outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of work/, outbox/, archive/, errors/, duplicates/ and the ledger "
    "(created if missing).",
)
@click.option("--once", is_flag=True, help="Process what is in INBOX, then exit (for cron).")
@click.option(
    "--poll",
    type=float,
    metavar="SECONDS",
    help="Scan INBOX this often instead of waiting for file-system events "
    "(NFS, CIFS and SSHFS mounts do not deliver them).",
)
@click.option(
    "--settle",
    type=float,
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="Take a file only once its size and time have not changed for this long.",
)
@click.option(
    "--truncated-after",
    type=float,
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="A file without the IEA that closes its interchange waits this long (since it "
    "last changed), then goes to errors/ as truncated.",
)
@click.option(
    "--outputs",
    default="report,split",
    show_default=True,
    metavar="KINDS",
    help="Outputs per file in outbox/, comma-separated: report, fixed, split, annotated.",
)
@ack_options(
    "Also write each file's acknowledgements to outbox/: NAME.ta1, NAME.999, "
    "NAME.277ca (those that apply), numbered from the ledger."
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite ledger (default: OUTDIR/edi837.sqlite; keep it on a local disk).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per file (time, file, sha256, status, claims, findings, "
    "codes, seconds).",
)
@click.option("-q", "--quiet", is_flag=True, help="No line per file on standard error.")
@fail_on_option("A claim with a finding at or above this severity goes to NAME.rejected.837.")
@rule_options
@guarded
def watch(
    inbox: Path,
    outdir: Path,
    once: bool,
    poll: float | None,
    settle: float,
    truncated_after: float,
    outputs: str,
    with_acks: bool,
    ack_types: str,
    ledger_path: Path | None,
    log_file: Path | None,
    quiet: bool,
    fail_on: str,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """Watch INBOX and process each 837 file that arrives, once, into OUTDIR.

    A file is taken when its size and time have not changed for --settle seconds and its
    name is not a temporary one (.*, *.tmp, *.part, *.filepart, ~$*); it is moved into
    OUTDIR/work/ by a rename, so two watchers never take the same file. Its outputs go to
    OUTDIR/outbox/ (named after the file; with --ack also its TA1, 999 and 277CA), then the
    original is moved, unchanged, to OUTDIR/archive/YYYY-MM-DD/, OUTDIR/errors/ (with
    NAME.reason.txt) or OUTDIR/duplicates/.
    Files left in work/ by a crash are processed again on start. SIGTERM or Ctrl-C stops
    after the current file. One run owns OUTDIR at a time: another one exits 0 at once,
    saying so. Exit code 0 on a clean stop.
    """
    from edi837.findings import Severity
    from edi837.ops.ledger import LedgerError
    from edi837.ops.watch import LockHeld, WatchOptions, serve

    for option, value in (
        ("--poll", poll),
        ("--settle", settle),
        ("--truncated-after", truncated_after),
    ):
        _seconds(option, value)
    if poll == 0:
        raise click.BadParameter("must be more than 0 seconds", param_hint="--poll")
    kinds = _outputs(outputs)
    acks = chosen_acks(with_acks, ack_types)
    if not inbox.is_dir():
        say(f"edi837: {inbox}: inbox folder not found; create it or name another")
        sys.exit(EXIT_ERROR)

    def load_engine() -> Engine:
        engine = engine_from(select, ignore, profile, config_path, refdata)
        if not quiet:
            note_missing_tables(engine)
        return engine

    options = WatchOptions(
        inbox=inbox,
        outdir=outdir,
        settle=settle,
        poll=poll,
        once=once,
        outputs=kinds,
        acks=acks,
        fail_on=Severity(fail_on),
        ledger=ledger_path,
        log_file=log_file,
        truncated_after=truncated_after,
    )
    try:
        serve(
            options,
            load_engine,
            None if quiet else _teller(outdir),
            lambda notice: say(f"edi837: {notice}"),
        )
    except LockHeld as held:
        say(f"edi837: {outdir}: another run holds the lock ({held}); nothing to do")
    except LedgerError as exc:
        say(f"edi837: {exc}")
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK)


def _teller(outdir: Path) -> Callable[[Handled], None]:
    """One line per file on standard error: where it went, counts and codes only."""
    root = outdir.resolve()

    def tell(handled: Handled) -> None:
        outcome = handled.outcome
        parts = [f"{handled.file}: {handled.status}"]
        if handled.status == "duplicate" and handled.duplicate_of:
            parts[0] += f" of {handled.duplicate_of}"
        if outcome is not None and outcome.claims:
            parts.append(f"{outcome.claims} claim{'s' if outcome.claims != 1 else ''}")
        if outcome is not None:
            found = ", ".join(f"{n} {sev}" for sev, n in outcome.findings_by_severity.items() if n)
            if found:
                parts.append(found)
        try:
            where = outdir / handled.moved_to.relative_to(root)
        except ValueError:
            where = handled.moved_to
        line = ", ".join(parts) + f" -> {where}"
        if handled.reason and handled.status == "error":
            line += f" ({handled.reason.removeprefix(handled.file + ': ')})"
        say(f"edi837: {line}")

    return tell


COMMANDS = [watch]
