"""The ``edi837`` command line: a thin click layer over :mod:`edi837.api`.

Only this package imports click. Each command module turns options into an api call, renders
the result and picks the exit code, defined here once: 0 clean, 1 findings at or above
``--fail-on``, 2 bad input or usage. Bad input is one line on standard error (``FILE: segment
N (byte B): what is wrong; what to do``), never a traceback unless ``--debug``; the other
files of the run are still processed. Heavy modules are imported inside the commands, so
``edi837 --help`` stays fast.
"""

from __future__ import annotations

import click

from edi837.cli.common import CONTEXT
from edi837.version import __version__


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


def run() -> None:
    """Console-script entry point."""
    main(prog_name="edi837")


def _register() -> None:
    from edi837.cli import acks as acknowledging
    from edi837.cli import annotating, catalogue, checking, fixing, reading, splitting

    for module in (reading, checking, fixing, splitting, annotating, catalogue, acknowledging):
        for command in module.COMMANDS:
            main.add_command(command)


_register()

__all__ = ["main", "run"]
