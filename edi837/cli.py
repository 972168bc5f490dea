"""The ``edi837`` command line: a thin click layer over the library.

This is the only module that imports click's command machinery. Exit codes are defined here
once: 0 clean, 1 findings at or above ``--fail-on``, 2 bad input or usage. Bad input is one
line on standard error (``FILE: segment N (byte B): what is wrong; what to do``), never a
traceback unless ``--debug``; the other files of the run are still processed.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO, TypeVar

import click

from edi837 import __version__

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def format_option(
    choices: list[str], default: str, help: str = "Output format."
) -> Callable[[F], F]:
    """The ``-f/--format`` option of a command."""
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help=help,
    )


class Failure(Exception):
    """An error the user can act on: printed as one line, exit code 2."""


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return bool(root and root.obj and root.obj.get("debug"))


def guarded(func: F) -> F:
    """Turn any exception into one line on standard error and exit code 2 (``--debug``: raise)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Failure as exc:
            click.echo(f"edi837: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except BrokenPipeError:
            sys.exit(EXIT_ERROR)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for users
            if _debug():
                traceback.print_exc()
            else:
                click.echo(
                    f"edi837: internal error: {type(exc).__name__}: {exc} "
                    "(run with --debug for the traceback)",
                    err=True,
                )
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="edi837")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Check X12 837P claim files: CPT 96372 injections, their drug lines, NDCs and modifiers.

    Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 bad input or usage.
    The documentation of every rule: edi837 rules CODE.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _text_target(output: str | None) -> tuple[TextIO, Callable[[], None]]:
    """A text stream for ``-o`` (``-`` or absent: standard output) and a function to finish it.

    Files are written to memory first and then atomically, so a failed run leaves no half file.
    """
    if output is None or output == "-":
        return sys.stdout, lambda: sys.stdout.flush()
    from edi837.x12.writer import atomic_output

    buffer = io.StringIO()

    def finish() -> None:
        with atomic_output(Path(output)) as handle:
            handle.write(buffer.getvalue().encode("utf-8"))

    return buffer, finish


# ---------------------------------------------------------------- parse


@main.command(context_settings=CONTEXT)
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
    """Print the 837P loop tree of FILE (``-`` for standard input).

    Loop ids are pyx12's: ISA_LOOP, GS_LOOP, ST_LOOP, HEADER, 1000A, 2000A, 2010AA ... 2300,
    2400, 2410. Transactions that are not 837P are skipped with a note on standard error.
    """
    from edi837.reports import tree
    from edi837.x12.reader import SegmentReader, X12SyntaxError, open_source
    from edi837.x837p.builder import UnitReader

    try:
        stream = open_source(file)
    except X12SyntaxError as exc:
        click.echo(exc.describe(file), err=True)
        sys.exit(EXIT_ERROR)
    units = UnitReader(SegmentReader(stream, file))
    notices: list[str] = []
    problems: dict[str, int] = {}

    def placed() -> Iterator[tree.Placed]:
        for unit in units:
            if unit.notice:
                notices.append(unit.notice)
            for finding in unit.findings:
                problems[finding.code] = problems.get(finding.code, 0) + 1
            yield from unit.segments

    try:
        if no_output:
            for _ in placed():
                pass
        elif fmt == "xml":
            binary: BinaryIO
            if output is None or output == "-":
                tree.write_xml(placed(), sys.stdout.buffer, file)
            else:
                from edi837.x12.writer import atomic_output

                with atomic_output(Path(output)) as binary:
                    tree.write_xml(placed(), binary, file)
        else:
            out, finish = _text_target(output)
            if fmt == "json":
                tree.write_json(placed(), out, file)
            else:
                tree.write_tsv(placed(), out)
            finish()
    except X12SyntaxError as exc:
        sys.stdout.flush()
        click.echo(exc.describe(file), err=True)
        sys.exit(EXIT_ERROR)
    finally:
        if file != "-":
            stream.close()
    for notice in notices:
        click.echo(f"{file}: {notice}", err=True)
    if problems:
        # The tree is still printed: parse shows structure, check judges it.
        codes = ", ".join(f"{code} x{n}" if n > 1 else code for code, n in sorted(problems.items()))
        total = sum(problems.values())
        click.echo(
            f"{file}: {total} envelope/structure finding{'s' if total != 1 else ''} "
            f"({codes}); run `edi837 check` for details",
            err=True,
        )
    if units.summary.transactions == 0 and units.summary.skipped:
        click.echo(f"{file}: no 837P transaction in the file", err=True)
        sys.exit(EXIT_ERROR)


# ---------------------------------------------------------------- check


def rule_options(func: F) -> F:
    """The options every checking command shares: selection, profile, config, reference data."""
    options = [
        click.option(
            "--select",
            metavar="CODES",
            help="Only these rule codes or prefixes, comma-separated (e.g. NDC,INJ-002).",
        ),
        click.option("--ignore", metavar="CODES", help="Skip these codes or prefixes."),
        click.option(
            "--profile",
            type=click.Choice(["auto", "medicare", "medicaid", "commercial"]),
            default=None,
            help="Payer profile; auto (the default) reads SBR09: MB medicare, MC medicaid.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Configuration file (default: edi837.toml in the working folder).",
        ),
        click.option(
            "--refdata",
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder of official CMS/FDA reference files (NCCI, MUE, crosswalk, NDC).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _split_codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def build_engine(
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> Any:
    """Settings from the config file and options, reference data loaded, rules selected."""
    from edi837.config import ConfigError, load_config
    from edi837.engine import Engine
    from edi837.refdata import load_reference
    from edi837.rules.registry import UnknownRuleError

    try:
        settings, _ = load_config(config_path)
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    if select is not None:
        settings.select = _split_codes(select)
    if ignore is not None:
        settings.ignore = list(settings.ignore) + (_split_codes(ignore) or [])
    if profile is not None:
        settings.profile = profile
    if refdata is not None:
        settings.refdata = str(refdata)
    folder = Path(settings.refdata) if settings.refdata else None
    if folder is not None and not folder.is_dir():
        raise Failure(f"{folder}: reference data folder not found")
    try:
        reference = load_reference(folder)
    except (OSError, ValueError) as exc:
        raise Failure(f"reference data: {exc}") from None
    try:
        return Engine(settings, reference)
    except UnknownRuleError as exc:
        raise Failure(f"{exc} (see `edi837 rules` for the codes)") from None


SEVERITIES = click.Choice(["reject", "deny-risk", "warning"])


@main.command(context_settings=CONTEXT)
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@format_option(["text", "json", "csv", "html"], "text", "Report format.")
@click.option("-o", "--output", metavar="OUT", help="Write the report to OUT.")
@click.option(
    "--fail-on",
    type=SEVERITIES,
    default="reject",
    show_default=True,
    help="Exit 1 when a finding is at or above this severity.",
)
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

    FILE may be ``-`` for standard input. Unreadable files are reported on standard error
    and the others are still checked.
    """
    from edi837.engine import FileResult
    from edi837.findings import Severity
    from edi837.reports.csv_report import write_csv
    from edi837.reports.json_report import write_json
    from edi837.reports.text import write_text

    engine = build_engine(select, ignore, profile, config_path, refdata)
    missing = engine.refdata.missing()
    if missing:
        click.echo(
            "edi837: note: reference tables not loaded: "
            + ", ".join(missing)
            + " (rules that need them stay silent; see `edi837 refdata`)",
            err=True,
        )
    results: list[FileResult] = []
    for name in _progress(files):
        result = engine.check_path(name, detail=fmt == "html")
        if result.status == "error" and result.error:
            click.echo(result.error, err=True)
        for notice in result.notices:
            click.echo(f"{name}: {notice}", err=True)
        results.append(result)
    out, finish = _text_target(output)
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
    if any(r.status == "error" for r in results):
        sys.exit(EXIT_ERROR)
    threshold = Severity(fail_on)
    sys.exit(EXIT_FINDINGS if any(r.fails(threshold) for r in results) else EXIT_OK)


def _progress(files: tuple[str, ...]) -> Iterator[str]:
    """The files, with a progress bar on standard error for long interactive runs."""
    if len(files) < 5 or not sys.stderr.isatty():
        yield from files
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("checking", total=len(files))
        for name in files:
            yield name
            progress.advance(task)


# ---------------------------------------------------------------- rules


@main.command(context_settings=CONTEXT)
@click.argument("code", required=False)
@format_option(["text", "json"], "text", "List format.")
@guarded
def rules(code: str | None, fmt: str) -> None:
    """List every rule, or print the documentation of rule CODE (e.g. NDC-004)."""
    from edi837.rules import default_registry
    from edi837.rules.docs import rule_json, rule_text
    from edi837.rules.registry import UnknownRuleError

    registry = default_registry()
    if code is not None:
        try:
            rule = registry.get(code)
        except UnknownRuleError as exc:
            raise Failure(f"{exc} (see `edi837 rules` for the list)") from None
        if fmt == "json":
            click.echo(json.dumps(rule_json(rule, full=True), indent=2))
        else:
            click.echo(rule_text(rule))
        return
    if fmt == "json":
        click.echo(json.dumps([rule_json(r) for r in registry.all()], indent=2))
        return
    for rule in registry.all():
        click.echo(f"{rule.code:<9} {rule.severity.value:<9} {rule.fix.value:<9} {rule.summary}")


# ---------------------------------------------------------------- refdata


@main.command(context_settings=CONTEXT)
@click.option(
    "--refdata",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of official CMS/FDA files to load besides the shipped tables.",
)
@format_option(["text", "json"], "text")
@guarded
def refdata(refdata: Path | None, fmt: str) -> None:
    """Show which reference tables are loaded, from where, and as of which quarter or date."""
    from edi837.config import ConfigError, load_config
    from edi837.refdata import load_reference

    if refdata is None:
        try:
            settings, _ = load_config(None)
        except ConfigError as exc:
            raise Failure(str(exc)) from None
        refdata = Path(settings.refdata) if settings.refdata else None
    if refdata is not None and not refdata.is_dir():
        raise Failure(f"{refdata}: reference data folder not found")
    reference = load_reference(refdata)
    rows = [
        {
            "name": t.name,
            "source": t.source,
            "as_of": t.as_of,
            "path": str(t.path),
            "rows": t.rows,
            "full": t.full,
        }
        for t in reference.tables
    ]
    if fmt == "json":
        click.echo(
            json.dumps({"tables": rows, "missing": reference.missing(medicaid=True)}, indent=2)
        )
        return
    for row in rows:
        kind = "official" if row["full"] else "shipped"
        click.echo(f"{row['name']:<18} {kind:<8} {row['rows']:>8} rows  as of {row['as_of']}")
        click.echo(f"{'':<18} from {row['path']}")
        source = str(row["source"])
        click.echo(f"{'':<18} {source if len(source) <= 78 else source[:75] + '...'}")
    for name in reference.missing(medicaid=True):
        click.echo(f"{name:<18} missing  (put the official file in a folder; pass --refdata)")


def run() -> None:
    """Console-script entry point."""
    main(prog_name="edi837")


# ---------------------------------------------------------------- fix


@main.command(context_settings=CONTEXT)
@click.argument("file", metavar="FILE")
@click.option(
    "-o", "--output", metavar="OUT", help="Write the corrected file to OUT (- for stdout)."
)
@click.option("--in-place", is_flag=True, help="Replace FILE, keeping the original as FILE.orig.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply unsafe fixes that have edits.")
@click.option("--diff", is_flag=True, help="Print a unified diff by segment instead of writing.")
@click.option("--log", "log_path", metavar="FILE", help="Write every edit as JSON to FILE.")
@rule_options
@guarded
def fix(
    file: str,
    output: str | None,
    in_place: bool,
    unsafe_fixes: bool,
    diff: bool,
    log_path: str | None,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """Apply the safe fixes to FILE (unsafe ones only with --unsafe-fixes) and write the result.

    Re-checks and repeats until nothing changes. Delimiters, line breaks, encoding, envelope
    and control numbers are kept; SE01 is recounted where segments were added or removed.
    The result goes to standard output unless -o or --in-place is given; files are written
    atomically, never half-way.
    """
    import tempfile

    from edi837.correction import NothingToFixError, correct_file, segment_diff
    from edi837.x12.reader import X12SyntaxError, open_source
    from edi837.x12.writer import atomic_output, spool

    if in_place and (output is not None or file == "-"):
        raise click.UsageError("--in-place needs a FILE and no -o")
    engine = build_engine(select, ignore, profile, config_path, refdata)
    if output not in (None, "-"):
        workdir = Path(output).resolve().parent
    elif in_place:
        workdir = Path(file).resolve().parent
    else:
        workdir = Path(tempfile.gettempdir())
    spooled: Path | None = None
    try:
        stream = open_source(file)
        if file == "-":
            spooled = spool(stream, workdir)
            source = spooled
        else:
            stream.close()
            source = Path(file)
        correction = correct_file(engine, source, workdir, unsafe_fixes, name=file)
    except X12SyntaxError as exc:
        click.echo(exc.describe(file), err=True)
        sys.exit(EXIT_ERROR)
    except NothingToFixError as exc:
        click.echo(f"{file}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    finally:
        if spooled is not None and "correction" not in locals():
            spooled.unlink(missing_ok=True)
    try:
        if diff:
            for line in segment_diff(source, correction.result, file):
                click.echo(line)
        elif in_place:
            if correction.changed:
                with atomic_output(Path(file + ".orig")) as handle:
                    handle.write(Path(file).read_bytes())
                with atomic_output(Path(file)) as handle:
                    handle.write(correction.result.read_bytes())
        elif output is not None and output != "-":
            with atomic_output(Path(output)) as handle:
                with open(correction.result, "rb") as result:
                    shutil.copyfileobj(result, handle)
        else:
            with open(correction.result, "rb") as result:
                shutil.copyfileobj(result, sys.stdout.buffer)
            sys.stdout.flush()
        if log_path is not None:
            entries = [e.to_dict() for e in correction.edits]
            with atomic_output(Path(log_path)) as handle:
                handle.write((json.dumps(entries, indent=2) + "\n").encode("utf-8"))
    finally:
        if correction.result != source:
            correction.result.unlink(missing_ok=True)
        if spooled is not None:
            spooled.unlink(missing_ok=True)
    more = correction.remaining_unsafe()
    hint = f" ({more} more fixable with --unsafe-fixes)" if more and not unsafe_fixes else ""
    click.echo(
        f"{correction.fixed_findings} fixed, {len(correction.remaining)} remaining{hint}", err=True
    )


# ---------------------------------------------------------------- annotate


@main.command(context_settings=CONTEXT)
@click.argument("file", metavar="FILE")
@click.option(
    "-o", "--output", metavar="OUT", help="Write the listing to OUT (- for standard output)."
)
@rule_options
@guarded
def annotate(
    file: str,
    output: str | None,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """List FILE one segment per line, with its findings under the segments they point at.

    Annotation lines start with '#': a caret under the offending element with the code,
    severity and message, then the fix. Drop them (and, for a file written on one line, the
    line breaks the header names) to get the input back byte for byte. The listing is in the
    input's encoding; -o files are written atomically.
    """
    from edi837.reports.annotate import write_listing
    from edi837.x12.reader import X12SyntaxError, open_source
    from edi837.x12.writer import atomic_output

    engine = build_engine(select, ignore, profile, config_path, refdata)
    try:
        stream = open_source(file)
    except X12SyntaxError as exc:
        click.echo(exc.describe(file), err=True)
        sys.exit(EXIT_ERROR)
    try:
        if output is None or output == "-":
            sys.stdout.flush()
            summary = write_listing(stream, file, engine, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            with atomic_output(Path(output)) as handle:
                summary = write_listing(stream, file, engine, handle)
    except X12SyntaxError as exc:
        click.echo(exc.describe(file), err=True)
        sys.exit(EXIT_ERROR)
    finally:
        if file != "-":
            stream.close()
    for notice in summary.notices:
        click.echo(f"{file}: {notice}", err=True)


# ---------------------------------------------------------------- split


@main.command(context_settings=CONTEXT)
@click.argument("file", metavar="FILE")
@click.option(
    "-d",
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the outputs, created if missing (default: the folder of FILE; "
    "the working folder for -).",
)
@click.option(
    "--name",
    metavar="NAME",
    help="Base name of the outputs (default: FILE without its extension; stdin for -).",
)
@click.option(
    "--fail-on",
    type=SEVERITIES,
    default="reject",
    show_default=True,
    help="A claim with a finding at or above this severity goes to the rejected file.",
)
@rule_options
@guarded
def split(
    file: str,
    folder: Path | None,
    name: str | None,
    fail_on: str,
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> None:
    """Split FILE into DIR/NAME.accepted.837 and DIR/NAME.rejected.837, claim by claim.

    A claim with no finding at or above --fail-on is accepted; the others are rejected, so
    the first file can be sent on and the second returned. Each output is a complete
    interchange with the input's control numbers: every claim keeps its billing provider,
    subscriber and patient levels, HL numbers are renumbered per transaction set, and
    SE01/GE01/IEA01 are recounted. A finding outside any claim (an HL level, a transaction
    header, an envelope) rejects every claim of that level. An output that would hold no claim
    is not written. Transaction sets that are not 837P are left out and reported.
    """
    from edi837.findings import Severity
    from edi837.splitting import split_file
    from edi837.x12.reader import X12SyntaxError, open_source
    from edi837.x12.writer import spool

    if name is not None and (name in ("", ".", "..") or Path(name).name != name):
        raise click.UsageError("--name must be a file name, without a folder")
    if name is None:
        name = "stdin" if file == "-" else Path(file).stem
    if folder is None:
        folder = Path(".") if file == "-" else Path(file).parent
    engine = build_engine(select, ignore, profile, config_path, refdata)
    missing = engine.refdata.missing()
    if missing:
        click.echo(
            "edi837: note: reference tables not loaded: "
            + ", ".join(missing)
            + " (rules that need them stay silent; see `edi837 refdata`)",
            err=True,
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Failure(f"{folder}: cannot create the output folder: {exc.strerror}") from None
    spooled: Path | None = None
    try:
        stream = open_source(file)
        if file == "-":
            spooled = spool(stream, folder)
            source = spooled
        else:
            stream.close()
            source = Path(file)
        result = split_file(engine, source, folder, name, Severity(fail_on), label=file)
    except X12SyntaxError as exc:
        click.echo(exc.describe(file), err=True)
        sys.exit(EXIT_ERROR)
    except OSError as exc:
        raise Failure(f"{folder}: cannot write the outputs: {exc.strerror or exc}") from None
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)
    plan = result.plan
    for notice in plan.notices:
        click.echo(f"{file}: {notice}", err=True)
    for kind, count, path in (
        ("accepted", result.accepted, result.accepted_path),
        ("rejected", result.rejected, result.rejected_path),
    ):
        if count:
            noun = "claim" if count == 1 else "claims"
            click.echo(f"{count} {noun} {kind} -> {path}")
        else:
            removed = " (the one of an earlier split was removed)" if path in result.removed else ""
            click.echo(f"no claim {kind}; {path.name} not written{removed}")
        if kind == "rejected":
            for rejection in plan.rejections:
                click.echo(f"  {rejection.describe()}")
            if plan.more_rejections:
                click.echo(f"  ... and {plan.more_rejections} more levels")
