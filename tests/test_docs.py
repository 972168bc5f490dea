"""Documentation that users read is complete and current."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main
from edi837.rules import default_registry
from edi837.rules.base import DOC_SECTIONS
from edi837.rules.docs import rules_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_rules_page_is_generated_from_the_rules() -> None:
    page = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert page == rules_markdown(default_registry()), "run `make docs` and commit docs/rules.md"


def test_every_rule_is_documented() -> None:
    for rule in default_registry().all():
        assert rule.summary.endswith("."), rule.code
        for section in DOC_SECTIONS:
            assert rule.docs.get(section), f"{rule.code} has no '{section}' section"


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, command in main.commands.items():
        assert command.help and len(command.help) > 20, name
        assert f"edi837 {name}" in readme, f"README does not show `edi837 {name}`"
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0


def test_the_readme_examples_are_what_the_commands_print(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests import readme_examples

    monkeypatch.chdir(readme_examples.ROOT)
    text = readme_examples.README.read_text(encoding="utf-8")
    found = readme_examples.examples(text)
    assert len(found) >= 3
    for example in found:
        assert readme_examples.run(example.text) == example.text, (
            "README example is stale; run `make docs`"
        )
