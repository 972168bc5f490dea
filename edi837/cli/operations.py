"""``edi837 batch`` and ``edi837 ledger``: unattended runs over many files, and their record.

The work is in :mod:`edi837.ops`; these commands turn options into a
:class:`~edi837.ops.batch.BatchOptions`, show progress (a bar on a terminal, one line per file
with ``-v`` otherwise) and pick the exit code. Lines about files name the file, its status and
counts only: never an element value of NM1, N3, N4, DMG, REF or PER.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from edi837.cli.common import (
    CONTEXT,
    EXIT_ERROR,
    Failure,
    ack_options,
    chosen_acks,
    fail_on_option,
    format_option,
    guarded,
    rule_options,
)
from edi837.reports.escape import escape_text

if TYPE_CHECKING:
    from edi837.ops.batch import BatchResult
    from edi837.ops.outcome import Outcome

OUTPUT_CHOICES = ("report", "split", "fixed", "annotated")


def _outputs(ctx: click.Context, param: click.Parameter, value: str) -> frozenset[str]:
    chosen = frozenset(v.strip() for v in value.split(",") if v.strip())
    unknown = sorted(chosen - set(OUTPUT_CHOICES))
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not one of {', '.join(OUTPUT_CHOICES)}")
    return chosen


@click.command(context_settings=CONTEXT)
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    "outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the outputs, batch.json, batch.html and the ledger (created if missing).",
)
@click.option("--glob", metavar="PATTERN", help="In folders, only file names matching this.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: the number of cores).",
)
@click.option(
    "--outputs",
    default="report,split",
    show_default=True,
    callback=_outputs,
    help="Per-file outputs, comma-separated: report, split, fixed, annotated.",
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite ledger (default: OUTDIR/edi837.sqlite).",
)
@click.option("--force", is_flag=True, help="Redo files the ledger has as done.")
@ack_options(
    "Also write each file's acknowledgements: OUTDIR/NAME.ta1, NAME.999, NAME.277ca "
    "(those that apply), numbered from the ledger."
)
@click.option(
    "--engine",
    "engine_kind",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Worker processes on this machine, or a Spark cluster (needs edi837[spark]).",
)
@click.option("--master", metavar="URL", default="local[*]", help="Spark master (--engine spark).")
@click.option("-v", "--verbose", is_flag=True, help="One line per file (when there is no bar).")
@fail_on_option("Exit 1 when a finding is at or above this severity; rejects claims in the split.")
@rule_options
@guarded
def batch(
    inputs: tuple[str, ...],
    outdir: Path,
    glob: str | None,
    jobs: int | None,
    outputs: frozenset[str],
    ledger_path: Path | None,
    force: bool,
    with_acks: bool,
    ack_types: str,
    engine_kind: str,
    master: str,
    verbose: bool,
    fail_on: str,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """Check every INPUT (files and folders) into OUTDIR, in parallel, with a ledger.

    Per input: OUTDIR/NAME.report.json (the check -f json document) and, as --outputs asks,
    NAME.accepted.837 / NAME.rejected.837, NAME.fixed.837, NAME.annotated.txt; with --ack,
    NAME.ta1, NAME.999 and NAME.277ca (an unreadable file or a duplicate gets none). For the
    run: OUTDIR/batch.json and OUTDIR/batch.html. A file the ledger has as done is skipped; a file
    repeating an interchange (sender and ISA13) of another file is refused as a duplicate.
    With --engine spark the run writes OUTDIR/findings.parquet, OUTDIR/claims.parquet and
    OUTDIR/batch.json instead (no per-file outputs and no ledger).

    Exit codes: 0 nothing at or above --fail-on, 1 findings or a duplicate, 2 an input
    unreadable (the other inputs are still processed).
    """
    from edi837.findings import Severity
    from edi837.ops.batch import BatchOptions, EngineOptions, collect_inputs, run_batch

    acks = chosen_acks(with_acks, ack_types)
    try:
        files = collect_inputs(inputs, glob)
    except FileNotFoundError as exc:
        raise Failure(f"{exc.args[0]}: no such file or folder") from None
    if not files:
        raise Failure("no input files (check the folders and --glob)")
    engine_options = EngineOptions(
        profile=profile,
        select=select,
        ignore=ignore,
        refdata=os.fspath(refdata) if refdata is not None else None,
        config=os.fspath(config_path) if config_path is not None else None,
    )
    # Bad rule options are one line and exit code 2 here, not an error in every worker.
    engine = engine_options.load()
    if engine_kind == "spark":
        if acks:
            raise click.UsageError("--ack is not available with --engine spark")
        _spark(files, outdir, master, engine_options, outputs, fail_on, ledger_path, force)
        return
    options = BatchOptions(
        outdir=outdir,
        outputs=outputs,
        jobs=jobs or os.cpu_count() or 1,
        ledger=ledger_path,
        force=force,
        fail_on=Severity(fail_on),
        engine=engine_options,
        acks=acks,
    )
    if sys.stderr.isatty():
        result = _with_bar(files, options, engine)
    else:
        result = run_batch(files, options, on_outcome=lambda o: _report(o, verbose), engine=engine)
    _summary(result)
    sys.exit(result.exit_code(options.fail_on))


def _with_bar(files: list[Path], options: Any, engine: Any) -> BatchResult:
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from edi837.ops.batch import run_batch

    started = time.perf_counter()
    claims = 0
    with Progress(
        TextColumn("batch"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} claims/s"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[current]}"),
        transient=True,
    ) as bar:
        task = bar.add_task("batch", total=len(files), rate="-", current="")

        def done(outcome: Outcome) -> None:
            nonlocal claims
            if outcome.status != "skipped":
                claims += outcome.claims
            elapsed = time.perf_counter() - started
            rate = f"{claims / elapsed:,.0f}" if elapsed > 0 else "-"
            bar.update(task, advance=1, rate=rate, current=escape_text(outcome.path.name))
            if outcome.status in ("error", "duplicate"):
                bar.console.print(_line(outcome), markup=False, highlight=False)

        def starting(path: Path) -> None:
            bar.update(task, current=escape_text(path.name))

        return run_batch(files, options, on_outcome=done, on_start=starting, engine=engine)


def _line(outcome: Outcome) -> str:
    if outcome.status == "error":
        return escape_text(f"edi837: {outcome.error}")
    if outcome.status == "duplicate":
        return escape_text(f"edi837: {outcome.path}: duplicate of {outcome.duplicate_of}")
    counts = outcome.findings_by_severity
    return escape_text(
        f"{outcome.path}: {outcome.status}, {outcome.claims} claims, "
        f"{counts.get('reject', 0)} reject, {counts.get('deny-risk', 0)} deny-risk, "
        f"{counts.get('warning', 0)} warning ({outcome.seconds:.2f}s)"
    )


def _report(outcome: Outcome, verbose: bool) -> None:
    if verbose or outcome.status in ("error", "duplicate"):
        click.echo(_line(outcome), err=True)


def _summary(result: BatchResult) -> None:
    data = result.to_dict()["summary"]
    statuses = ", ".join(f"{n} {s}" for s, n in data["by_status"].items())
    found = data["findings"]
    rate = data["claims_per_second"]
    click.echo(
        f"batch: {data['files']} files ({statuses}), {data['claims']} claims, "
        f"{found['reject']} reject, {found['deny-risk']} deny-risk, {found['warning']} warning "
        f"in {data['seconds']:.1f}s ({rate if rate is not None else '-'} claims/s, "
        f"{data['jobs']} jobs); summary in {result.summary}",
        err=True,
    )


def _spark(
    files: list[Path],
    outdir: Path,
    master: str,
    engine_options: Any,
    outputs: frozenset[str],
    fail_on: str,
    ledger_path: Path | None,
    force: bool,
) -> None:
    """Check ``files`` on Spark: ``findings.parquet``, ``claims.parquet`` and ``batch.json``.

    The Spark path is the scale-out of the check itself; the per-file outputs, the ledger and
    its duplicate refusal belong to the local engine, so asking for them here is refused
    rather than silently ignored.
    """
    from edi837.findings import Severity

    context = click.get_current_context()
    asked = [
        f"--{name}"
        for name in ("outputs", "ledger", "force")
        if context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    ]
    if ledger_path is not None and "--ledger" not in asked:
        asked.append("--ledger")
    if asked:
        raise Failure(
            f"{', '.join(asked)}: not available with --engine spark, which writes "
            "findings.parquet, claims.parquet and batch.json; use --engine local for "
            "per-file outputs and the ledger"
        )
    try:
        importlib.import_module("pyspark")
    except ImportError:
        raise Failure(
            "--engine spark needs pyspark, which is not installed: pip install 'edi837[spark]'"
        ) from None
    spark = importlib.import_module("edi837.ops.spark")
    settings: dict[str, object] = {
        "profile": engine_options.profile,
        "select": engine_options.select,
        "ignore": engine_options.ignore,
        "refdata": engine_options.refdata,
        "config": engine_options.config,
    }
    summary = spark.run_batch([str(f) for f in files], outdir, master=master, settings=settings)
    click.echo(json.dumps(summary, indent=2, default=str))
    sys.exit(_spark_exit_code(summary, Severity(fail_on)))


def _spark_exit_code(summary: dict[str, Any], fail_on: Any) -> int:
    """The batch exit codes from a Spark summary: 2 an unreadable input, 1 findings, else 0."""
    if summary.get("errors"):
        return EXIT_ERROR
    counts = summary.get("findings") or {}
    failing = any(
        count and severity.at_least(fail_on)
        for severity in type(fail_on)
        for count in [counts.get(severity.value, 0)]
    )
    return 1 if failing else 0


@click.command(context_settings=CONTEXT)
@click.argument("what", type=click.Choice(["files", "claims", "duplicates", "stats"]))
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("edi837.sqlite"),
    show_default=True,
    help="The ledger to read (batch writes OUTDIR/edi837.sqlite).",
)
@format_option(["text", "json"], "text")
@guarded
def ledger(what: str, ledger_path: Path, fmt: str) -> None:
    """Show what the ledger recorded: files, claims, duplicates or stats."""
    from edi837.ops.ledger import Ledger, LedgerError

    if not ledger_path.is_file():
        raise Failure(f"{ledger_path}: no ledger here (name one with --ledger)")
    try:
        with Ledger(ledger_path) as opened:
            data: Any = {
                "files": opened.files,
                "claims": opened.claims,
                "duplicates": opened.duplicates,
                "stats": opened.stats,
            }[what]()
    except LedgerError as exc:
        raise Failure(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    for line in _text(what, data):
        click.echo(escape_text(line))


def _text(what: str, data: Any) -> list[str]:
    if what == "stats":
        done = data["done"]
        found = done["findings"]
        return [
            f"schema version {data['schema_version']}",
            "files: " + (", ".join(f"{n} {s}" for s, n in sorted(data["files"].items())) or "0"),
            "claims: " + (", ".join(f"{n} {s}" for s, n in sorted(data["claims"].items())) or "0"),
            f"interchanges: {data['interchanges']}",
            f"done: {done['files']} files, {done['claims']} claims, {found['reject']} reject, "
            f"{found['deny-risk']} deny-risk, {found['warning']} warning, {done['seconds']}s",
        ]
    if what == "files":
        return [
            f"{r['status']:<11} {r['claims']:>7} claims {r['reject']:>5} reject "
            f"{r['deny_risk']:>5} deny-risk {r['warning']:>5} warning  {r['sha256'][:12]}  "
            f"{r['path']}"
            for r in data
        ]
    if what == "claims":
        return [
            f"{r['status']:<8} {r['claim_id']:<20} {r['charge']:>10} {r['profile']:<10} "
            f"{r['reject']} reject {r['deny_risk']} deny-risk {r['warning']} warning  {r['file']}"
            for r in data
        ]
    return [f"{r['file']}: duplicate of {r['duplicate_of']} ({r['first_seen']})" for r in data]


COMMANDS = [batch, ledger]
