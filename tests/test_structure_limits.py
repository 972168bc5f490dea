"""Hierarchy and SEG-003 findings of a hostile transaction: bounded, and each fault said once.

A chain of HLs nested below a patient level is reported once per code; any other flood of one
code is listed up to the per-transaction cap and summed up in one more finding.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from edi837 import api
from edi837.findings import Finding, Severity
from edi837.rules import default_registry
from edi837.rules.docs import rule_text
from edi837.x837p.checks import TRANSACTION_CAP

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "samples" / "clean-injection.837"
MORE = re.compile(
    r"^and ([\d,]+) more (\S+) findings in this transaction \(segments (\d+) to (\d+)\)"
)
CHAIN = re.compile(r"^([\d,]+) (\S+) findings in a chain of HL levels nested below a patient level")


def with_hierarchy(levels: list[str]) -> bytes:
    """The clean sample with its hierarchy (and everything in it) replaced by ``levels``."""
    text = CLEAN.read_text()
    head, rest = text.split("HL*1**20*1~\n", 1)
    trailer = rest[rest.index("SE*") :]
    return (head + "".join(f"{level}~\n" for level in levels) + trailer).encode()


def nested(depth: int) -> bytes:
    """``depth`` HLs, from the third on each a patient level under the patient level before it.

    The guide nests three levels (billing provider 20, subscriber 22, patient 23); every level
    of the chain names the one before it as parent, says it has a child (HL04 1) and lacks its
    patient loops.
    """
    levels = ["HL*1**20*1", "HL*2*1*22*1"]
    levels += [f"HL*{n}*{n - 1}*23*1" for n in range(3, depth + 1)]
    return with_hierarchy(levels)


def subscribers(count: int) -> bytes:
    """One billing provider with ``count`` bare subscriber levels, each claiming a child."""
    return with_hierarchy(["HL*1**20*1", *(f"HL*{n}*1*22*1" for n in range(2, count + 2))])


def findings_of(data: bytes) -> list[Finding]:
    result = api.check(data, name="hostile.837")
    assert result.status == "findings", result.error
    return list(result.findings)


def matching(pattern: re.Pattern[str], findings: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in findings if pattern.match(f.message)}


def told(pattern: re.Pattern[str], finding: Finding) -> int:
    match = pattern.match(finding.message)
    assert match is not None and match.group(2) == finding.code
    return int(match.group(1).replace(",", ""))


# -- a chain nested deeper than the guide's three levels -------------------------------------------


def test_a_short_broken_hierarchy_is_listed_finding_by_finding() -> None:
    findings = findings_of(nested(3))
    assert matching(CHAIN, findings) == {} and matching(MORE, findings) == {}
    assert Counter(f.code for f in findings)["HL-003"] == 1  # HL 3 says it has a child


@pytest.mark.parametrize("depth", [6, 2_000])
def test_a_chain_below_the_patient_level_is_one_finding_per_code(depth: int) -> None:
    findings = findings_of(nested(depth))
    chain = matching(CHAIN, findings)
    assert sorted(chain) == ["HL-002", "HL-003", "SEG-003"]
    # HL 4 .. depth nest below a patient level: each names the wrong parent, says it has a
    # child and lacks the patient loop's three required members.
    below = depth - 3
    assert [told(CHAIN, chain[code]) for code in ("HL-002", "HL-003", "SEG-003")] == [
        below,
        below,
        3 * below,
    ]
    # The chain starts at HL 4, the first level below the patient level HL 3.
    first = next(f for f in findings if f.segment_id == "HL" and f.code == "HL-002")
    assert first is chain["HL-002"]
    assert "HL02 is '3'" in first.message
    assert first.severity is Severity.REJECT and first.fix is None
    # The real patient level HL 3 keeps its own findings.
    counts = Counter(f.code for f in findings)
    assert (counts["HL-002"], counts["HL-003"], counts["SEG-003"]) == (1, 2, 1 + 3 + 4)


def test_the_findings_of_a_chain_do_not_grow_with_its_depth() -> None:
    shallow = [(f.code, f.segment_number) for f in findings_of(nested(50))]
    deep = [(f.code, f.segment_number) for f in findings_of(nested(5_000))]
    # Only the segment count in SE01 moves with the depth.
    assert [key for key in shallow if key[0] != "ENV-008"] == [
        key for key in deep if key[0] != "ENV-008"
    ]


# -- any other flood of one code -------------------------------------------------------------------


def test_below_the_cap_every_finding_is_listed() -> None:
    findings = findings_of(subscribers(40))
    counts = Counter(f.code for f in findings)
    # Each bare subscriber: HL04 1 with no patient level, and no SBR, 2010BA or 2010BB; the
    # bare billing provider lacks its 2010AA.
    assert (counts["HL-003"], counts["SEG-003"]) == (40, 3 * 40 + 1)
    assert matching(MORE, findings) == {}


def test_past_the_cap_the_rest_of_a_code_is_one_summary() -> None:
    count = TRANSACTION_CAP + 300
    findings = findings_of(subscribers(count))
    counts = Counter(f.code for f in findings)
    more = matching(MORE, findings)
    assert sorted(more) == ["HL-003", "SEG-003"]
    expected = {"HL-003": count, "SEG-003": 3 * count + 1}
    for code, total in expected.items():
        assert counts[code] == TRANSACTION_CAP + 1
        assert TRANSACTION_CAP + told(MORE, more[code]) == total
        match = MORE.match(more[code].message)
        assert match is not None
        assert int(match.group(3)) <= (more[code].segment_number or 0) <= int(match.group(4))
    hl04 = more["HL-003"]
    # The file fails as it would with every finding listed; HL-003's fix sets one HL04, so a
    # summary that stands for many segments offers none.
    assert hl04.severity is Severity.REJECT and hl04.fix is None
    assert "the first of them: HL04 of subscriber level" in hl04.message


@pytest.mark.parametrize("code", ["HL-001", "HL-002", "HL-003", "HL-004", "SEG-003"])
def test_the_rule_docs_state_the_cap(code: str) -> None:
    doc = rule_text(default_registry().get(code))
    assert f"at most {TRANSACTION_CAP:,} {code} findings are listed per transaction" in doc
