"""Rule documentation: one rule as text or JSON, and ``docs/rules.md`` for every rule.

The documentation is the rule classes' docstrings (see :mod:`edi837.rules.base`), so the
command line, the generated page and the code cannot drift apart; a test regenerates the page
and fails when the checked-in copy differs.
"""

from __future__ import annotations

from typing import Any

from edi837.rules.base import DOC_SECTIONS, Rule
from edi837.rules.needs import describe
from edi837.rules.registry import Registry


def _severity_text(rule: Rule) -> str:
    text = rule.severity.value
    if rule.severity_by_profile:
        parts = [f"{p.value}: {s.value}" for p, s in rule.severity_by_profile.items()]
        text += f" ({'; '.join(parts)})"
    for severity, when in rule.severity_when.items():
        text += f"; {severity.value} {when}"
    return text


def rule_json(rule: Rule, full: bool = False) -> dict[str, Any]:
    """``code``, ``severity``, ``summary``, ``fix`` (and the documentation when ``full``)."""
    data: dict[str, Any] = {
        "code": rule.code,
        "severity": rule.severity.value,
        "severity_by_profile": {p.value: s.value for p, s in rule.severity_by_profile.items()},
        "severity_when": {s.value: when for s, when in rule.severity_when.items()},
        "summary": rule.summary,
        "fix": rule.fix.value,
        "scope": rule.scope,
    }
    if full:
        data["docs"] = dict(rule.docs)
    return data


def rule_text(rule: Rule) -> str:
    """What ``edi837 rules CODE`` prints."""
    lines = [
        f"{rule.code}: {rule.summary}",
        "",
        f"Severity: {_severity_text(rule)}",
        f"Fix: {rule.fix.value}",
    ]
    if rule.needs:
        lines.append(f"Runs on claims with {describe(rule.needs)}")
    for section in (*DOC_SECTIONS, "Options"):
        body = rule.docs.get(section)
        if body:
            lines += [
                "",
                f"{section}:",
                *("  " + line if line else "" for line in body.splitlines()),
            ]
    return "\n".join(lines)


def rules_markdown(registry: Registry) -> str:
    """The whole ``docs/rules.md`` page."""
    out = [
        "# Rules",
        "",
        "Generated from the rule classes by `make docs`; do not edit by hand.",
        "`edi837 rules CODE` prints the same text. Severities are `reject`, `deny-risk` and",
        "`warning`; fixes are `safe` (applied by `edi837 fix`), `unsafe` (only with",
        "`--unsafe-fixes`), `display` (a suggestion in words, never applied), `sometimes`",
        "(safe when the data settles the answer, else unsafe or a suggestion) or `none`.",
        "In `check -f json` (contract version 2) a finding's `fix.applicability` is `safe`,",
        "`unsafe` or `display`. A rule that reads only some kinds of claim runs only on claims",
        'that have them (its "Runs on" line); the others could not give it anything to report.',
        "",
        "| Code | Severity | Fix | Summary |",
        "|---|---|---|---|",
    ]
    rules = registry.all()
    for rule in rules:
        anchor = rule.code.lower()
        out.append(
            f"| [{rule.code}](#{anchor}) | {_severity_text(rule)} | {rule.fix.value} "
            f"| {rule.summary} |"
        )
    for rule in rules:
        out += ["", f"## {rule.code}", "", f"**{rule.summary}**", ""]
        out += [f"- Severity: {_severity_text(rule)}", f"- Fix: {rule.fix.value}"]
        if rule.needs:
            # What the engine checks before running the rule on a claim (rules/needs.py).
            out.append(f"- Runs on claims with {describe(rule.needs)}")
        for section in (*DOC_SECTIONS, "Options"):
            body = rule.docs.get(section)
            if body:
                out += ["", f"### {section}", "", body]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    from edi837.rules import default_registry

    print(rules_markdown(default_registry()), end="")
