"""Hierarchy and SEG-003 findings of a hostile transaction: listed up to the cap, then summed up."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from edi837 import api
from edi837.findings import Finding, Severity
from edi837.x837p.checks import TRANSACTION_CAP

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "samples" / "clean-injection.837"
CAPPED = ("HL-002", "HL-003", "SEG-003")
MORE = re.compile(
    r"^and ([\d,]+) more (\S+) findings in this transaction \(segments (\d+) to (\d+)\)"
)


def nested(depth: int) -> bytes:
    """The clean sample with its hierarchy replaced by ``depth`` HLs, each the child of the last.

    The guide nests three levels (billing provider 20, subscriber 22, patient 23); from the
    third HL on every patient level names the patient level before it as its parent, says it
    has a child (HL04 1) and lacks its patient loops.
    """
    text = CLEAN.read_text()
    head, rest = text.split("HL*1**20*1~\n", 1)
    trailer = rest[rest.index("SE*") :]
    body = ["HL*1**20*1~\n", "HL*2*1*22*1~\n"]
    body += [f"HL*{n}*{n - 1}*23*1~\n" for n in range(3, depth + 1)]
    return (head + "".join(body) + trailer).encode()


def findings_of(depth: int) -> list[Finding]:
    result = api.check(nested(depth), name="nested.837")
    assert result.status == "findings", result.error
    return result.findings


def summaries(findings: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in findings if MORE.match(f.message)}


def test_a_shallow_broken_hierarchy_lists_every_finding() -> None:
    findings = findings_of(40)
    counts = Counter(f.code for f in findings)
    # Patient levels 3 .. 40: 37 wrong parents (HL 3's parent, 2, is a subscriber level), 38
    # wrong HL04s and, for each, its three missing required members; the billing provider and
    # subscriber levels, left bare, lack four more.
    assert (counts["HL-002"], counts["HL-003"], counts["SEG-003"]) == (37, 38, 3 * 38 + 4)
    assert summaries(findings) == {}


def test_a_deep_hierarchy_lists_the_cap_and_sums_up_the_rest_once_per_code() -> None:
    depth = TRANSACTION_CAP + 500
    findings = findings_of(depth)
    counts = Counter(f.code for f in findings)
    summed = summaries(findings)
    assert sorted(summed) == sorted(CAPPED)
    expected = {"HL-002": depth - 3, "HL-003": depth - 2, "SEG-003": 3 * (depth - 2) + 4}
    for code in CAPPED:
        # The cap's findings one by one, plus the one summary.
        assert counts[code] == TRANSACTION_CAP + 1
        match = MORE.match(summed[code].message)
        assert match is not None
        more = int(match.group(1).replace(",", ""))
        assert match.group(2) == code
        assert TRANSACTION_CAP + more == expected[code]
        # It sits on an unlisted segment within the span it names, inside the hierarchy.
        low, high = int(match.group(3)), int(match.group(4))
        assert low <= (summed[code].segment_number or 0) <= high
        assert summed[code].segment_id == "HL"


def test_the_summary_keeps_the_files_verdict_and_offers_no_fix() -> None:
    summed = summaries(findings_of(TRANSACTION_CAP + 10))
    hl04 = summed["HL-003"]
    assert hl04.severity is Severity.REJECT
    # HL-003's fix sets one HL04; a summary stands for many segments, so it offers none.
    assert hl04.fix is None
    assert "the first of them: HL04 of patient level" in hl04.message


@pytest.mark.parametrize("depth", [TRANSACTION_CAP + 10, 4 * TRANSACTION_CAP])
def test_the_number_of_findings_does_not_grow_with_the_depth(depth: int) -> None:
    findings = findings_of(depth)
    # Three codes at the cap plus a summary each, and the envelope's segment-count finding.
    assert len(findings) <= 3 * (TRANSACTION_CAP + 1) + 1


@pytest.mark.parametrize("code", ["HL-001", "HL-002", "HL-003", "HL-004", "SEG-003"])
def test_the_rule_docs_state_the_cap(code: str) -> None:
    from edi837.rules import structure

    doc = getattr(structure, code.replace("-", "")).__doc__ or ""
    assert f"at most {TRANSACTION_CAP:,} {code} findings are listed per transaction" in doc
