"""``edi837 rules`` and ``edi837 refdata``: the rule catalogue and the reference tables."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edi837.cli.common import CONTEXT, Failure, format_option, guarded


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


@click.command(context_settings=CONTEXT)
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


COMMANDS = [rules, refdata]
