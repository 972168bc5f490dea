"""Every rule against its data cases (``tests/rule_cases/CODE.toml``): findings and fixed output."""

from __future__ import annotations

from typing import Any

import pytest

from edi837 import api
from edi837.config import settings_from_mapping
from edi837.engine import Engine
from edi837.findings import Finding
from edi837.rules import default_registry
from edi837.rules.profiles import Profile
from edi837.x12.reader import SegmentReader, read_segments
from edi837.x12.segment import Segment
from edi837.x837p.builder import UnitReader
from tests.rulecases import CASES, RuleCase, all_cases, as_bytes, claim_part, segment_lines

CASE_LIST = all_cases()


def run(case: RuleCase, document: str) -> tuple[list[Segment], list[Finding]]:
    settings = settings_from_mapping({"select": case.select, **case.settings})
    engine = Engine(settings)
    segments: list[Segment] = []
    findings: list[Finding] = []
    for unit, found in engine.iter_checked(UnitReader(SegmentReader(as_bytes(document)))):
        segments.extend(seg for seg, _ in unit.segments)
        findings.extend(found)
    return segments, findings


def fix_until_stable(case: RuleCase, unsafe: bool) -> list[str]:
    """The case's document after the fixing loop `edi837 fix` runs (passes, runaway guard)."""
    settings = settings_from_mapping({"select": case.select, **case.settings})
    try:
        result = api.fix(as_bytes(case.document), engine=Engine(settings), unsafe=unsafe)
    except api.No837P:
        # Nothing to fix in a file of other transaction sets: `fix` writes nothing.
        return [seg.text for seg in read_segments(case.document)]
    assert result.data is not None
    assert result.stopped is None, f"the fixing loop stopped early: {result.stopped}"
    return [seg.text for seg in read_segments(result.data)]


def matches(expected: dict[str, Any], finding: Finding) -> bool:
    """Whether ``finding`` has every expected value; ``message`` is a part of its message."""
    if "message" in expected and expected["message"] not in finding.message:
        return False
    expected = {key: value for key, value in expected.items() if key != "message"}
    actual = {
        "code": finding.code,
        "line": finding.line,
        "element": finding.element,
        "severity": finding.severity.value,
        "segment": finding.segment_id,
        "fix": finding.fix.applicability.value if finding.fix else "none",
    }
    return all(actual[key] == value for key, value in expected.items())


def safe(finding: Finding) -> bool:
    return finding.fix is not None and finding.fix.applicability.value == "safe"


def describe(finding: Finding) -> str:
    fix = finding.fix.applicability.value if finding.fix else "none"
    return (
        f"{finding.code} line={finding.line} element={finding.element} "
        f"severity={finding.severity.value} segment={finding.segment_id} fix={fix}: "
        f"{finding.message}"
    )


@pytest.mark.parametrize("case", CASE_LIST, ids=[c.id for c in CASE_LIST])
def test_findings(case: RuleCase) -> None:
    _, findings = run(case, case.document)
    got = [describe(f) for f in findings]
    assert len(findings) == len(case.findings), f"expected {case.findings}, got {got}"
    for expected, finding in zip(case.findings, findings, strict=True):
        assert matches(expected, finding), f"expected {expected}, got {describe(finding)}"


@pytest.mark.parametrize("case", CASE_LIST, ids=[c.id for c in CASE_LIST])
def test_fixed_output(case: RuleCase) -> None:
    original = [seg.text for seg in run(case, case.document)[0]]
    fixed = fix_until_stable(case, unsafe=False)
    if case.fixed is None:
        assert fixed == original, "no safe fix was expected to change this case"
        return
    expected = [line.rstrip("~") for line in segment_lines(case.fixed)]
    got = claim_part(fixed) if case.from_claim else fixed
    assert got == expected
    # The fixed output no longer carries the findings the safe fixes addressed.
    _, after = run(case, "".join(text + "~\n" for text in fixed))
    assert not [f for f in after if f.fix is not None and f.fix.concrete and safe(f)]


@pytest.mark.parametrize(
    "case",
    [c for c in CASE_LIST if c.unsafe_fixed],
    ids=[c.id for c in CASE_LIST if c.unsafe_fixed],
)
def test_unsafe_fixed_output(case: RuleCase) -> None:
    assert case.unsafe_fixed is not None
    fixed = fix_until_stable(case, unsafe=True)
    expected = [line.rstrip("~") for line in segment_lines(case.unsafe_fixed)]
    assert (claim_part(fixed) if case.from_claim else fixed) == expected


def test_every_rule_has_cases() -> None:
    codes = {rule.code for rule in default_registry().all()}
    files = {path.stem for path in CASES.glob("*.toml")}
    assert sorted(codes - files) == [], "rules without a case file"
    assert sorted(files - codes) == [], "case files without a rule"


def test_every_rule_case_file_has_a_positive_and_a_negative_case() -> None:
    by_code: dict[str, list[RuleCase]] = {}
    for case in CASE_LIST:
        by_code.setdefault(case.code, []).append(case)
    for code, cases in by_code.items():
        assert any(c.findings for c in cases), f"{code}: no case that must produce it"
        assert any(not c.findings for c in cases), f"{code}: no case that must not produce it"


def applicability(finding: Finding) -> str:
    """``none``, ``display`` (words only), or the applicability of a concrete fix."""
    if finding.fix is None:
        return "none"
    if not finding.fix.concrete:
        return "display"
    return finding.fix.applicability.value


def test_every_rule_emits_the_fixes_it_declares() -> None:
    # What `edi837 rules` and docs/rules.md say about a rule's fix must be what it does:
    # a rule declared unsafe that only ever suggests in words misleads --unsafe-fixes users.
    emitted: dict[str, set[str]] = {}
    for case in CASE_LIST:
        for finding in run(case, case.document)[1]:
            emitted.setdefault(finding.code, set()).add(applicability(finding))
    wrong = []
    for rule in default_registry().all():
        seen = emitted.get(rule.code, set())
        if not seen <= rule.fix.allows:
            wrong.append(f"{rule.code} declares {rule.fix.value} but emits {sorted(seen)}")
        # A declared fix is one the cases show at least once.
        witness = {
            "safe": {"safe"},
            "unsafe": {"unsafe"},
            "display": {"display"},
            "sometimes": {"safe"},
            "none": {"none"},
        }[rule.fix.value]
        if rule.scope != "structure" and seen and not seen & witness:
            wrong.append(f"{rule.code} declares {rule.fix.value} but emits only {sorted(seen)}")
    assert wrong == []


def test_a_suggestion_in_words_is_display_only() -> None:
    # The JSON contract (version 2) shows a fix without edits as "display", never "unsafe".
    for case in CASE_LIST:
        for finding in run(case, case.document)[1]:
            if finding.fix is not None and not finding.fix.concrete:
                assert finding.fix.applicability.value == "display", describe(finding)


def test_every_rule_emits_the_severities_it_documents() -> None:
    # The severity table of `edi837 rules CODE` and docs/rules.md (default, per profile, and
    # the documented exceptions) is what the rule emits; a class default nobody sees is a bug.
    registry = default_registry()
    wrong: list[str] = []
    defaults_seen: set[str] = set()
    for case in CASE_LIST:
        if case.settings.get("severity"):
            continue  # a user's override is not the rule's own severity
        profile = Profile(case.profile)
        for finding in run(case, case.document)[1]:
            rule = registry.get(finding.code)
            default = rule.default_severity(profile)
            if finding.severity is default:
                defaults_seen.add(rule.code)
            elif finding.severity not in rule.severity_when:
                wrong.append(f"{case.id}: {finding.code} {finding.severity.value}")
    assert wrong == []
    emitted = {f.code for case in CASE_LIST for f in run(case, case.document)[1]}
    assert sorted(emitted - defaults_seen) == [], "rules never seen at their default severity"


def all_rules(case: RuleCase) -> RuleCase:
    """The case run with every default rule instead of its own selection."""
    return RuleCase(
        code=case.code,
        name=case.name,
        document=case.document,
        select=[code for code in sorted(CODES)],
        findings=case.findings,
        fixed=case.fixed,
        unsafe_fixed=case.unsafe_fixed,
        settings=case.settings,
        from_claim=case.from_claim,
        profile=case.profile,
    )


CODES = {rule.code for rule in default_registry().selected(None)}


def where(finding: Finding) -> tuple[str, str | None, int | None, str | None]:
    return (finding.code, finding.claim, finding.line, finding.element)


@pytest.mark.parametrize("case", CASE_LIST, ids=[c.id for c in CASE_LIST])
def test_safe_fixes_never_cause_a_new_finding(case: RuleCase) -> None:
    # A safe fix is one a biller need not review: after every safe fix of the default rules,
    # the re-check must not report anything (of any severity) the input did not already have.
    everything = all_rules(case)
    _, before = run(everything, case.document)
    fixed = fix_until_stable(everything, unsafe=False)
    _, after = run(everything, "".join(text + "~\n" for text in fixed))
    known = {where(f) for f in before}
    new = [describe(f) for f in after if where(f) not in known]
    assert new == []
