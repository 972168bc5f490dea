"""One finding per root cause: consequences carry ``caused_by`` and sit under their cause."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import causes, engine
from edi837.cli import main
from edi837.rules import default_registry
from tests.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "SOURCES.md")
)


@pytest.fixture
def bad_qualifier(tmp_path: Path) -> Path:
    """The drug line of a sample with an SV101-1 qualifier the guide does not know (ZZ)."""
    text = (ROOT / "samples" / "missing-ndc.837").read_text(encoding="utf-8")
    path = tmp_path / "bad-qualifier.837"
    path.write_text(text.replace("SV1*HC:J1885", "SV1*ZZ:J1885"), encoding="utf-8")
    return path


def _findings(path: Path) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(main, ["check", "-f", "json", str(path)])
    return result.exit_code, json.loads(result.stdout)["files"][0]["findings"]


def test_an_unknown_sv1_qualifier_is_one_cause_with_its_consequence(bad_qualifier: Path) -> None:
    code, found = _findings(bad_qualifier)
    assert code == 1
    by_code = {f["code"]: f for f in found}
    # The SV1 the guide could not place is reported missing from its line: that follows.
    assert by_code["SEG-003"]["caused_by"] == {"code": "SEG-002", "segment_number": 32}
    assert "caused_by" not in by_code["SEG-002"]
    assert "caused_by" not in by_code["NDC-002"]


def test_text_shows_the_consequence_under_its_cause_and_counts_causes(
    bad_qualifier: Path,
) -> None:
    out = CliRunner().invoke(main, ["check", str(bad_qualifier)]).stdout.splitlines()
    cause = next(i for i, line in enumerate(out) if line.strip().startswith("SEG-002"))
    consequence = next(i for i, line in enumerate(out) if line.strip().startswith("SEG-003"))
    assert consequence > cause
    assert out[consequence].index("SEG-003") > out[cause].index("SEG-002")
    assert out[-1].startswith("Found 3 findings (2 root causes): 3 reject")


def test_findings_without_a_cause_are_written_as_before() -> None:
    result = CliRunner().invoke(main, ["check", "-f", "json", str(ROOT / "samples" / "multi.837")])
    assert result.exit_code == 1
    assert "caused_by" not in result.stdout
    text = CliRunner().invoke(main, ["check", str(ROOT / "samples" / "multi.837")]).stdout
    assert "root cause" not in text


def test_the_relations_name_real_rules_and_have_no_cycle() -> None:
    known = {rule.code for rule in default_registry().all()}
    edges: dict[str, set[str]] = {}
    for relation in causes.RELATIONS:
        assert {relation.cause, relation.consequence} <= known, relation
        assert relation.why.endswith(".")
        edges.setdefault(relation.cause, set()).add(relation.consequence)

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        nexts = edges.get(start, set()) - seen
        return goal in nexts or any(reaches(n, goal, seen | {n}) for n in nexts)

    assert not [code for code in edges if reaches(code, code)]


def test_root_causes_page_is_generated_from_the_relations() -> None:
    page = (ROOT / "docs" / "root-causes.md").read_text(encoding="utf-8")
    assert page == causes.markdown(), "run `make docs` and commit docs/root-causes.md"


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_grouping_keeps_every_finding_and_the_exit_code(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def key(found: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
        return Counter((f["code"], f["severity"], f["segment_number"]) for f in found)

    grouped_code, grouped = _findings(path)
    monkeypatch.setattr(engine, "group_by_cause", lambda found: found)
    plain_code, plain = _findings(path)
    assert grouped_code == plain_code
    assert key(grouped) == key(plain)
    assert not [f for f in plain if "caused_by" in f]


def test_annotate_lists_the_consequence_under_its_cause(
    bad_qualifier: Path, tmp_path: Path
) -> None:
    out = tmp_path / "listing.txt"
    CliRunner().invoke(main, ["annotate", str(bad_qualifier), "-o", str(out)])
    lines = out.read_text(encoding="utf-8").splitlines()
    cause = next(i for i, line in enumerate(lines) if line.startswith("# SEG-002"))
    assert lines[cause + 1].startswith("#     -> follows from SEG-002: SEG-003")
    assert lines[cause - 1].startswith("#") and lines[cause - 2].startswith("SV1*ZZ")


def test_html_marks_the_consequence_row(bad_qualifier: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    CliRunner().invoke(main, ["check", "-f", "html", "-o", str(out), str(bad_qualifier)])
    page = out.read_text(encoding="utf-8")
    rows = page.split("<tr ")
    cause = next(i for i, row in enumerate(rows) if "code-SEG-002" in row.split(">", 1)[0])
    assert "consequence" in rows[cause + 1].split(">", 1)[0]
    assert "follows from SEG-002" in rows[cause + 1]
