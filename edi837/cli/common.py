"""What every command shares: exit codes, the error guard, common options, input expansion.

A command lists its inputs as the user typed them; :func:`expand_inputs` walks folders (as
ruff and sqlfluff do) and refuses standard input named twice. :func:`guarded` turns any
exception into one line on standard error and exit code 2, so a user never sees a traceback
unless they ask for it with ``--debug``.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from edi837.engine import Engine

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SEVERITIES = click.Choice(["reject", "deny-risk", "warning"])

#: File names a folder argument contributes: the usual endings of X12 files, and none.
X12_SUFFIXES = frozenset({".837", ".x12", ".edi", ".txt", ".dat", ""})


class Failure(Exception):
    """An error the user can act on: printed as one line, exit code 2."""


def say(message: str) -> None:
    """One line on standard error, with control characters made visible.

    A value read from a file (a newline in ST02, ESC in a file name) can then never forge a
    line or drive the terminal.
    """
    from edi837.reports.escape import escape_text

    click.echo(escape_text(message), err=True)


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return bool(root and root.obj and root.obj.get("debug"))


def _options_error(exc: Exception) -> bool:
    """Whether ``exc`` is the api's :class:`~edi837.api.OptionsError`.

    Only a command that imported the api can raise one, so the api is looked up, not
    imported: ``parse`` and ``split`` start without loading the rules.
    """
    api = sys.modules.get("edi837.api")
    return api is not None and isinstance(exc, api.OptionsError)


def guarded(func: F) -> F:
    """Turn any exception into one line on standard error and exit code 2 (``--debug``: raise)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Failure as exc:
            say(f"edi837: {exc}")
            sys.exit(EXIT_ERROR)
        except BrokenPipeError:
            sys.exit(EXIT_ERROR)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for users
            if _options_error(exc):
                say(f"edi837: {exc}")
                sys.exit(EXIT_ERROR)
            if _debug():
                traceback.print_exc()
            else:
                say(
                    f"edi837: internal error: {type(exc).__name__}: {exc} "
                    "(run with --debug for the traceback)"
                )
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


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


def fail_on_option(
    help: str = "Exit 1 when a finding is at or above this severity.",
) -> Callable[[F], F]:
    """The ``--fail-on`` option."""
    return click.option(
        "--fail-on", type=SEVERITIES, default="reject", show_default=True, help=help
    )


def redact_option(func: F) -> F:
    """``--redact``: mask patient data (names, ids, addresses, dates of birth) in the output."""
    return click.option(
        "--redact",
        is_flag=True,
        help="Mask patient data (NM1 names and ids, N3, N4, DMG, person REF, PER) in the "
        "output, for sharing a report.",
    )(func)


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


def ack_options(ack_help: str) -> Callable[[F], F]:
    """``--ack`` (with ``ack_help`` as its help) and ``--ack-types``, as batch and watch take."""

    def decorate(func: F) -> F:
        func = click.option(
            "--ack-types",
            default="ta1,999,277ca",
            show_default=True,
            metavar="TYPES",
            help="With --ack: which acknowledgements to write, comma-separated.",
        )(func)
        return click.option("--ack", "with_acks", is_flag=True, help=ack_help)(func)

    return decorate


def chosen_acks(with_acks: bool, value: str) -> tuple[str, ...]:
    """The acknowledgement types of ``--ack --ack-types`` (none without ``--ack``)."""
    from edi837.acks import parse_types

    try:
        types = parse_types(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ack-types") from None
    return types if with_acks else ()


def engine_from(
    select: str | None,
    ignore: str | None,
    profile: str | None,
    config_path: Path | None,
    refdata: Path | None,
) -> Engine:
    """The engine for a command's rule options (bad options become one line, exit code 2)."""
    from edi837.api import load_engine

    return load_engine(
        select=select, ignore=ignore, profile=profile, refdata=refdata, config=config_path
    )


def note_missing_tables(engine: Engine) -> None:
    """After a run, say once which absent official tables a rule needed.

    Only tables a rule actually looked something up in are named (a run whose claims gave no
    rule a reason to ask says nothing), so silent rules are not mistaken for clean claims.
    """
    missed = engine.refdata.missed()
    if missed:
        say(
            "edi837: note: reference tables not loaded: "
            + ", ".join(missed)
            + " (rules that need them stayed silent; see `edi837 refdata`)"
        )


def expand_inputs(names: tuple[str, ...]) -> list[str]:
    """The files to process: folders walked (X12 file endings, hidden files skipped).

    Raises :class:`click.UsageError` when ``-`` (standard input) is named more than once.
    """
    if names.count("-") > 1:
        raise click.UsageError("standard input (-) can be read only once; name it once")
    files: list[str] = []
    for name in names:
        if name != "-" and os.path.isdir(name):
            found = list(_walk(Path(name)))
            if not found:
                # Nothing checked must not read as "nothing wrong" to a script.
                raise Failure(
                    f"{name}: no 837 files in this folder (looked for "
                    + ", ".join(sorted(s or "no ending" for s in X12_SUFFIXES))
                    + ")"
                )
            files.extend(found)
        else:
            files.append(name)
    return files


def _walk(folder: Path) -> Iterator[str]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(root) / name
            if name.startswith(".") or path.suffix.lower() not in X12_SUFFIXES:
                continue
            if path.is_file():
                yield str(path)


def progress(files: list[str], label: str) -> Iterator[str]:
    """The files, with a progress bar on standard error for long interactive runs."""
    if len(files) < 5 or not sys.stderr.isatty():
        yield from files
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=len(files))
        for name in files:
            yield name
            bar.advance(task)
