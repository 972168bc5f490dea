"""The hierarchy of an 837P transaction set (HL-001 to HL-004), and the cap on its findings.

The loop tracker (:mod:`edi837.x837p.tracker`) places each HL; :class:`HierarchyChecker` reads
the levels it sees, in file order, as the guide's tree: billing provider (HL03 ``20``) over
subscriber (``22``) over patient (``23``).

- ``HL-001`` HL01 unique and ascending from 1 (a gap is a warning);
- ``HL-002`` HL02 names the enclosing parent level;
- ``HL-003`` HL04 says whether a child level follows (settled when the next HL or the SE shows
  it, with a safe fix);
- ``HL-004`` no patient level under a subscriber with SBR02 ``18``.

It also bounds what a hostile hierarchy can make: past ``TRANSACTION_CAP`` findings of one
hierarchy code (or SEG-003, which the tracker reports through :meth:`HierarchyChecker.report`)
in a transaction set, the rest become one summary finding at its end; a chain of HLs nested
below a patient level, which repeats the same faults on every level, is reported once per code
when it ends. The state is a few counters and the HL01 numbers seen, kept as ranges.
"""

from __future__ import annotations

import bisect
import sys
from dataclasses import replace

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity
from edi837.x12.segment import Segment
from edi837.x837p.checks import HL001, HL002, HL003, HL004, SEG003, TRANSACTION_CAP
from edi837.x837p.checks import finding_at as _finding
from edi837.x837p.elements import count_value

# The child level each HL03 level code may have: billing provider 20 → subscriber 22 →
# patient 23.
_CHILD_LEVEL = {"20": "22", "22": "23"}
# HL01 (Hierarchical ID Number) is AN 1-12 in the guide.
_HL01_DIGITS = 12
_LEVEL_NAMES = {"20": "billing provider", "22": "subscriber", "23": "patient"}


class _Excess:
    """The findings of one code past :data:`TRANSACTION_CAP` in a transaction, as one summary."""

    __slots__ = ("count", "first", "high", "low", "severity")

    def __init__(self, first: Finding) -> None:
        self.first = first
        self.count = 1
        self.low = self.high = first.segment_number
        self.severity = first.severity

    def add(self, finding: Finding) -> None:
        self.count += 1
        number = finding.segment_number
        if number is not None:
            # Loops close innermost first, so their SEG-003s do not come in file order.
            self.low = number if self.low is None else min(self.low, number)
            self.high = number if self.high is None else max(self.high, number)
        if finding.severity.at_least(self.severity):
            self.severity = finding.severity

    def summary(self) -> Finding:
        """One finding on the first unlisted segment that says how many it stands for.

        It keeps the worst severity among them, so the file fails as it would with every
        finding listed; it has no fix, since its edit would cover only the first segment.
        """
        first = self.first
        span = (
            f"segments {self.low} to {self.high}"
            if self.low != self.high
            else f"segment {first.segment_number}"
        )
        message = (
            f"and {self.count:,} more {first.code} findings in this transaction ({span}), "
            f"not listed one by one: at most {TRANSACTION_CAP} of one code are listed per "
            f"transaction; the first of them: {first.message}"
        )
        return replace(first, message=message, severity=self.severity, fix=None)

    def nesting(self) -> Finding:
        """The findings of a chain of HLs nested below a patient level, as one."""
        first = self.first
        if self.count == 1:
            return first
        message = (
            f"{self.count:,} {first.code} findings in a chain of HL levels nested below a "
            f"patient level (segments {self.low} to {self.high}); the guide's hierarchy is "
            "three levels deep (billing provider 20, subscriber 22, patient 23), so the chain "
            f"is reported once; first at segment {first.segment_number}: {first.message}"
        )
        return replace(first, message=message, severity=self.severity, fix=None)


class HierarchyChecker:
    """The HL checks of one transaction set at a time, and the per-transaction finding cap.

    Call :meth:`check_hl` for every HL, :meth:`subscriber` for every 2000B SBR, and at the end
    of a transaction set :meth:`settle` (the last HL04), :meth:`flush` (the summaries) and
    :meth:`reset`.
    """

    # The hierarchy of the current transaction: HL01 values seen (as ranges), the last one,
    # the HL whose HL04 the next HL settles, the HL01 of the current billing provider (20)
    # and subscriber (22) levels that HL02 must name, and that subscriber's SBR (HL-004).
    _ranges: list[list[int]]
    _last: int
    _pending: tuple[Segment, str] | None
    _parents: dict[str, str]
    _sbr: Segment | None
    # HL-* and SEG-003 findings listed so far in the transaction, per code, and those past
    # TRANSACTION_CAP, held as one summary per code until the transaction ends: a hostile
    # hierarchy (100,000 nested HLs) would otherwise make several findings per segment.
    _listed: dict[str, int]
    _excess: dict[str, _Excess]
    # While HLs nest below a patient level (HL03 23 whose HL02 is the patient level before
    # it), their HL-002, HL-003 and 2000C SEG-003 findings, one per code, reported when the
    # chain ends: each level of such a chain repeats the same faults.
    _chain: dict[str, _Excess] | None

    def __init__(self) -> None:
        self._excess = {}
        self._chain = None
        self.reset()

    def reset(self) -> None:
        """Forget the transaction set that ended (its summaries must be flushed first)."""
        self._listed = {}
        self._ranges = []
        self._last = 0
        self._pending = None
        self._parents = {}
        self._sbr = None

    @property
    def holding(self) -> bool:
        """Whether summaries or a chain of nested levels wait for :meth:`flush`."""
        return bool(self._excess) or self._chain is not None

    def subscriber(self, sbr: Segment) -> None:
        """The SBR of the current subscriber level (its SBR02 decides HL-004)."""
        self._sbr = sbr

    def report(self, found: list[Finding], finding: Finding) -> None:
        """Lists a hierarchy or SEG-003 finding, or counts it once its code is at the cap."""
        code = finding.code
        chain = self._chain
        if chain is not None and (code != SEG003.code or finding.loop == "2000C"):
            held = chain.get(code)
            if held is None:
                chain[code] = _Excess(finding)
            else:
                held.add(finding)
            return
        self.limit(found, finding)

    def limit(self, found: list[Finding], finding: Finding) -> None:
        """Lists a structure finding, or counts it once its code is at the cap.

        The tracker sends its per-segment codes (SEG-001, SEG-002, STR-001, STR-002) here
        too: a flood of one misplaced segment in a claim would otherwise make a finding per
        segment and hold them all until the claim ends.
        """
        code = finding.code
        listed = self._listed.get(code, 0)
        if listed < TRANSACTION_CAP:
            self._listed[code] = listed + 1
            found.append(finding)
            return
        excess = self._excess.get(code)
        if excess is None:
            self._excess[code] = _Excess(finding)
        else:
            excess.add(finding)

    def flush(self, found: list[Finding]) -> None:
        """At the end of a transaction, one finding per code for what the cap left unlisted."""
        self._end_chain(found)
        for excess in self._excess.values():
            found.append(excess.summary())
        self._excess.clear()

    def _end_chain(self, found: list[Finding]) -> None:
        """Report a chain of HLs nested below a patient level, one finding per code."""
        chain = self._chain
        if chain is None:
            return
        self._chain = None
        for held in chain.values():
            self.report(found, held.nesting())

    def check_hl(self, seg: Segment, loop_id: str, found: list[Finding]) -> None:
        """HL-001, HL-002 and HL-004 for an HL, wherever it was placed; HL-003 of the last."""
        elements = seg.elements
        present = len(elements)
        hl_id = elements[1] if present > 1 else ""
        parent_id = elements[2] if present > 2 else ""
        level = elements[3] if present > 3 else ""
        pending = self._pending
        nested = (
            level == "23"
            and pending is not None
            and pending[1] == "23"
            and pending[0].element(1) == parent_id
        )
        if pending is not None:
            self.settle(level, found)
        if not nested:
            self._end_chain(found)
        elif self._chain is None:
            self._chain = {}
        self._pending = (seg, level)
        # HL-001: 1, 2, 3 ... without repeats; a gap is only a warning. HL01 is at most 12
        # characters in the guide, which bounds the number read.
        number = count_value(hl_id, _HL01_DIGITS)
        if number is None:
            self.report(
                found,
                _finding(
                    HL001,
                    f"HL01 {_shown(hl_id)} is not a number of at most {_HL01_DIGITS} digits; "
                    "HL01 counts 1, 2, 3 ... in a transaction",
                    seg,
                    "HL01",
                    loop_id,
                ),
            )
        else:
            ranges = self._ranges
            if number == self._last + 1 and ranges:
                # The usual case, the next number: it extends the last range of numbers seen.
                ranges[-1][1] = number
                self._last = number
            else:
                self._check_hl_number(number, seg, loop_id, found)
        # HL-002: a billing provider level has no parent; a subscriber level's parent is the
        # current billing provider level, a patient level's the current subscriber level.
        parents = self._parents
        if level == "20":
            if parent_id:
                self.report(
                    found,
                    _finding(
                        HL002,
                        f"HL02 is {_shown(parent_id)}, but a billing provider level (HL03 20) has "
                        "no parent",
                        seg,
                        "HL02",
                        loop_id,
                    ),
                )
        elif level in ("22", "23"):
            above = "20" if level == "22" else "22"
            expected = parents.get(above)
            if parent_id != expected:
                shown = _shown(parent_id) if parent_id else "empty"
                name = _LEVEL_NAMES[above]
                where = (
                    f"the enclosing {name} level is HL {expected}"
                    if expected
                    else f"there is no {name} level (HL03 {above}) above it"
                )
                self.report(
                    found,
                    _finding(
                        HL002,
                        f"HL02 is {shown}, but {where}",
                        seg,
                        "HL02",
                        loop_id,
                    ),
                )
        # HL-004: a patient level under a subscriber who is the patient (SBR02 18).
        sbr = self._sbr
        if level == "23" and sbr is not None and sbr.element(2) == "18":
            self.report(
                found,
                _finding(
                    HL004,
                    f"SBR02 is 18 (the subscriber is the patient), but patient level HL "
                    f"{hl_id} (2000C, segment {seg.number}) follows it; drop SBR02 or "
                    "the patient level",
                    sbr,
                    "SBR02",
                    "2000B",
                ),
            )
        if level == "20":
            parents.clear()
            parents["20"] = hl_id
            self._sbr = None
        elif level == "22":
            parents["22"] = hl_id
            self._sbr = None

    def _check_hl_number(
        self, number: int, seg: Segment, loop_id: str, found: list[Finding]
    ) -> None:
        ranges = self._ranges
        index = bisect.bisect_right(ranges, [number, sys.maxsize]) - 1
        if index >= 0 and ranges[index][0] <= number <= ranges[index][1]:
            self.report(
                found,
                _finding(
                    HL001,
                    f"HL01 {number} is used twice in this transaction",
                    seg,
                    "HL01",
                    loop_id,
                ),
            )
            return
        expected = self._last + 1
        if number > expected:
            self.report(
                found,
                _finding(
                    HL001,
                    f"HL01 jumps from {self._last} to {number}; HL01 counts up by 1",
                    seg,
                    "HL01",
                    loop_id,
                    severity=Severity.WARNING,
                ),
            )
        elif number < expected:
            self.report(
                found,
                _finding(
                    HL001,
                    f"HL01 {number} comes after HL01 {self._last}; HL01 must ascend",
                    seg,
                    "HL01",
                    loop_id,
                ),
            )
        # Record the number in the list of seen ranges, merging with its neighbours.
        if index >= 0 and ranges[index][1] == number - 1:
            ranges[index][1] = number
            if index + 1 < len(ranges) and ranges[index + 1][0] == number + 1:
                ranges[index][1] = ranges[index + 1][1]
                del ranges[index + 1]
        elif index + 1 < len(ranges) and ranges[index + 1][0] == number + 1:
            ranges[index + 1][0] = number
        else:
            ranges.insert(index + 1, [number, number])
        self._last = max(self._last, number)

    def settle(self, next_level: str | None, found: list[Finding]) -> None:
        """HL-003: the next HL (or the end of the transaction) settles the pending HL04."""
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        seg, level = pending
        if level == "20":
            expected = "1"  # a billing provider level always has subscriber levels under it
        elif level == "22":
            expected = "1" if next_level == _CHILD_LEVEL["22"] else "0"
        elif level == "23":
            expected = "0"
        else:
            return
        actual = seg.element(4)
        if actual == expected:
            return
        name = _LEVEL_NAMES[level]
        reason = (
            "a patient level follows it"
            if expected == "1" and level == "22"
            else "no child level follows it"
            if level == "22"
            else "it always has subscriber levels under it"
            if level == "20"
            else "a patient level has no child levels"
        )
        shown = repr(actual) if actual else "missing"
        self.report(
            found,
            _finding(
                HL003,
                f"HL04 of {name} level HL {seg.element(1)} is {shown}; it must be {expected} "
                f"because {reason}",
                seg,
                "HL04",
                {"20": "2000A", "22": "2000B", "23": "2000C"}[level],
                Fix(
                    Applicability.SAFE,
                    f"set HL04 to {expected}",
                    (Edit(EditKind.REPLACE, seg.number, "HL04", actual, expected),),
                ),
            ),
        )


def _shown(value: str) -> str:
    """A hierarchy number for a message: quoted when it is short, else by its length."""
    return repr(value) if len(value) <= _HL01_DIGITS else f"of {len(value)} characters"
