"""``edi837 rules`` and ``edi837 refdata``: the rule catalogue and the reference tables.

``edi837 refdata`` shows the loaded tables; its ``update`` and ``import`` subcommands fill a
reference data folder with the official CMS/FDA files (:mod:`edi837.refdata.update`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edi837.cli.common import CONTEXT, EXIT_ERROR, F, Failure, format_option, guarded, say
from edi837.reports.escape import escape_text

if TYPE_CHECKING:
    from rich.progress import TaskID

    from edi837.refdata.fetch import Progress
    from edi837.refdata.model import TableInfo
    from edi837.refdata.update import Outcome


@click.command(context_settings=CONTEXT)
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


@click.group(context_settings=CONTEXT, invoke_without_command=True)
@click.option(
    "--refdata",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of official CMS/FDA files to load besides the shipped tables.",
)
@format_option(["text", "json"], "text")
@click.pass_context
@guarded
def refdata(ctx: click.Context, refdata: Path | None, fmt: str) -> None:
    """Show which reference tables are loaded, from where, and as of which quarter or date.

    Without --refdata: the `refdata` setting, else the folder `edi837 refdata update` fills.
    Warns when an official table is older than its publisher's cadence allows.
    """
    if ctx.invoked_subcommand is not None:
        return
    from edi837.config import default_refdata_folder
    from edi837.refdata import load_reference

    if refdata is None:
        refdata = _configured_folder(None) or default_refdata_folder()
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
    stale = _stale(reference.tables)
    if fmt == "json":
        doc = {"tables": rows, "missing": reference.missing(medicaid=True), "stale": stale}
        click.echo(json.dumps(doc, indent=2))
        return
    for row in rows:
        kind = "official" if row["full"] else "shipped"
        click.echo(f"{row['name']:<18} {kind:<8} {row['rows']:>8} rows  as of {row['as_of']}")
        click.echo(f"{'':<18} from {row['path']}")
        source = str(row["source"])
        click.echo(f"{'':<18} {source if len(source) <= 78 else source[:75] + '...'}")
    for name in reference.missing(medicaid=True):
        click.echo(
            f"{name:<18} missing  (run `edi837 refdata update`, or put the official file "
            "in a folder and pass --refdata)"
        )
    for item in stale:
        say(
            f"edi837: warning: {item['name']} edition {item['edition']} is {item['why']}; "
            "run `edi837 refdata update`"
        )


def _configured_folder(config_path: Path | None) -> Path | None:
    """The ``refdata`` folder of the configuration file, when it names one."""
    from edi837.config import ConfigError, load_config

    try:
        settings, _ = load_config(config_path)
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    return Path(settings.refdata) if settings.refdata else None


def _stale(tables: list[TableInfo]) -> list[dict[str, str]]:
    """Official tables whose edition is older than their publisher's cadence allows."""
    from datetime import date

    from edi837.refdata.published import BY_NAME, staleness
    from edi837.refdata.update import edition_of

    found: list[dict[str, str]] = []
    seen: set[str] = set()
    for info in tables:
        publication = BY_NAME.get(info.name)
        if not info.full or publication is None or info.name in seen:
            continue
        seen.add(info.name)
        edition = edition_of(info.name, [info], date.today())
        why = staleness(publication, edition, date.today())
        if why:
            found.append({"name": info.name, "edition": edition, "why": why})
    return found


def _folder_option(func: F) -> F:
    return click.option(
        "--dir",
        "folder",
        type=click.Path(file_okay=False, path_type=Path),
        help="Reference data folder (default: the `refdata` setting, else the user data folder).",
    )(func)


def _common_update_options(func: F) -> F:
    options = [
        click.option(
            "--accept-license",
            is_flag=True,
            help="Accept the AMA CPT licence of the NCCI PTP and MUE files (recorded once).",
        ),
        click.option(
            "--force",
            is_flag=True,
            help="Install an edition whose row count changed by more than 50%.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Configuration file (default: edi837.toml in the working folder).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return _folder_option(func)


def _target(folder: Path | None, config_path: Path | None) -> Path:
    from edi837.config import user_refdata_folder

    return folder or _configured_folder(config_path) or user_refdata_folder()


def _report(outcomes: list[Outcome], folder: Path) -> None:
    """One line per table; exit 2 when any table was not brought up to date."""
    for outcome in outcomes:
        if outcome.ok:
            click.echo(escape_text(outcome.message))
        else:
            say(f"edi837: {outcome.message}")
    click.echo(f"manifest: {folder / 'manifest.json'}")
    if not all(outcome.ok for outcome in outcomes):
        sys.exit(EXIT_ERROR)


@refdata.command(context_settings=CONTEXT)
@_common_update_options
@click.option(
    "--only",
    metavar="NAME,...",
    help="Only these tables: ncci-ptp, mue, asp-crosswalk, hcpcs, ndc-directory, mdrp.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds without data before a download gives up.",
)
@guarded
def update(
    folder: Path | None,
    accept_license: bool,
    force: bool,
    config_path: Path | None,
    only: str | None,
    timeout: float,
) -> None:
    """Download the newest official CMS/FDA files, verify them and install them in DIR.

    Each edition is loaded before it replaces the previous one; DIR/manifest.json records its
    URL, date fetched, SHA-256, edition and rows. Addresses come from a shipped table;
    [refdata.urls] in edi837.toml overrides them.
    """
    from edi837.config import ConfigError, load_refdata_urls
    from edi837.refdata.update import update as run_update

    try:
        urls = load_refdata_urls(config_path)
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    target = _target(folder, config_path)
    names = only.split(",") if only else None
    try:
        with _progress_bar() as progress:
            outcomes = run_update(
                target,
                only=names,
                urls=urls,
                accept_license=accept_license,
                force=force,
                timeout=timeout,
                progress=progress,
            )
    except ValueError as exc:
        raise Failure(str(exc)) from None
    except OSError as exc:
        raise Failure(f"{exc.filename or target}: {exc.strerror or exc}") from None
    _report(outcomes, target)


@refdata.command("import", context_settings=CONTEXT)
@_common_update_options
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@guarded
def import_(
    folder: Path | None,
    accept_license: bool,
    force: bool,
    config_path: Path | None,
    files: tuple[Path, ...],
) -> None:
    """Install official files downloaded elsewhere (the zips as published), with the same checks.

    Pass the four NCCI PTP zips of one version together.
    """
    from edi837.refdata.update import import_files

    target = _target(folder, config_path)
    try:
        outcomes = import_files(target, list(files), accept_license=accept_license, force=force)
    except OSError as exc:
        raise Failure(f"{exc.filename or target}: {exc.strerror or exc}") from None
    _report(outcomes, target)


@contextmanager
def _progress_bar() -> Iterator[Progress | None]:
    """A rich progress bar per download on a terminal; nothing when standard error is not one."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bar

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Bar(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                shown = label if len(label) <= 40 else label[:37] + "..."
                tasks[label] = bar.add_task(shown, total=total)
            bar.update(tasks[label], completed=done, total=total)

        yield advance


COMMANDS = [rules, refdata]
