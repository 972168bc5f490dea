"""Applying fixes: planning edits without conflicts, then applying them to a segment stream.

Only this module changes segments. A pass has two steps, both streaming:

1. :func:`plan` takes the findings of a check and keeps, in file order, every fix the user
   allowed (``safe``, or ``unsafe`` with ``--unsafe-fixes``) whose edits touch no element that
   an earlier fix of the same pass touches, as ruff and sqlfluff do; the rest wait for the next
   pass, after a re-check.
2. :func:`apply_plan` streams the segments, applies the planned edits by segment ordinal and
   recounts SE01 of a transaction whose segments were added or removed (catalogue R-OUT-002).
   Control numbers (ISA13, GS06, ST02) are never changed.

New segments take the layout (line break, indentation, terminator) of the segment they
follow, so the output keeps the input's style.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from edi837.findings import Applicability, Edit, EditKind, Finding
from edi837.x12.segment import Segment


@dataclass
class AppliedEdit:
    """One edit that was applied, for the ``--log`` file and the summary line."""

    finding: Finding
    edit: Edit


@dataclass
class EditPlan:
    """The edits of one pass, keyed by the ordinal of the segment they anchor on."""

    by_segment: dict[int, list[Edit]] = field(default_factory=dict)
    applied: list[AppliedEdit] = field(default_factory=list)
    deferred: list[Finding] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.applied)


def fixable(finding: Finding, unsafe: bool) -> bool:
    """A finding whose fix has edits and whose applicability the user allowed."""
    fix = finding.fix
    if fix is None or not fix.concrete:
        return False
    return fix.applicability is Applicability.SAFE or unsafe


def plan(findings: Iterable[Finding], unsafe: bool = False) -> EditPlan:
    """Choose the fixes of one pass: whole fixes only, never two on the same element."""
    result = EditPlan()
    touched: set[tuple[int, str]] = set()
    whole: set[int] = set()  # segments deleted or replaced whole
    for finding in findings:
        if not fixable(finding, unsafe):
            continue
        assert finding.fix is not None
        keys: list[tuple[int, str]] = []
        clash = False
        for edit in finding.fix.edits:
            number = edit.segment_number
            if edit.kind is EditKind.INSERT_AFTER:
                key = (number, f"+{edit.new}")
            elif edit.kind is EditKind.REPLACE:
                key = (number, edit.element or "")
            elif edit.kind is EditKind.REPLACE_LEAD:
                key = (number, "^lead")
            else:
                key = (number, "*")
            if number in whole or key in touched or key in keys:
                clash = True
            elif edit.kind in (EditKind.DELETE, EditKind.REPLACE_SEGMENT) and any(
                n == number and not k.startswith("+") for n, k in touched
            ):
                clash = True
            if clash:
                break
            keys.append(key)
        if clash:
            result.deferred.append(finding)
            continue
        for edit in finding.fix.edits:
            result.by_segment.setdefault(edit.segment_number, []).append(edit)
            result.applied.append(AppliedEdit(finding, edit))
            if edit.kind in (EditKind.DELETE, EditKind.REPLACE_SEGMENT):
                whole.add(edit.segment_number)
        touched.update(keys)
    return result


def _derive(seg: Segment, text: str) -> Segment:
    return Segment(text, seg.delimiters, seg.number, seg.byte_offset, seg.line, seg.lead, seg.term)


def _edited(seg: Segment, edits: list[Edit]) -> tuple[Segment | None, list[Segment]]:
    """The segment after its edits (``None`` when deleted) and the segments inserted after it."""
    current: Segment | None = seg
    inserted: list[Segment] = []
    for edit in edits:
        if edit.kind is EditKind.INSERT_AFTER:
            assert edit.new is not None
            # An inserted segment has no position in the input; it borrows its anchor's
            # layout and ordinal so that findings on it still point near the right place.
            inserted.append(_derive(seg, edit.new))
        elif current is None:
            continue
        elif edit.kind is EditKind.DELETE:
            current = None
        elif edit.kind is EditKind.REPLACE_SEGMENT:
            assert edit.new is not None
            current = _derive(current, edit.new)
        elif edit.kind is EditKind.REPLACE_LEAD:
            assert edit.new is not None
            current = Segment(
                current.text,
                current.delimiters,
                current.number,
                current.byte_offset,
                current.line,
                edit.new,
                current.term,
            )
        else:
            assert edit.element is not None and edit.new is not None
            current = _derive(current, current.replaced(edit.element, edit.new))
    return current, inserted


def apply_plan(segments: Iterable[Segment], edits: EditPlan) -> Iterator[Segment]:
    """Stream ``segments`` with the planned edits applied and SE01 recounted where needed.

    SE01 is rewritten only in a transaction that gained or lost segments: a count that was
    wrong in the input stays as it was (and stays reported by ENV-008).
    """
    count = 0
    resized = False
    by_segment = edits.by_segment
    for seg in segments:
        todo = by_segment.get(seg.number)
        out: list[Segment]
        if todo is None:
            out = [seg]
        else:
            current, inserted = _edited(seg, todo)
            out = ([current] if current is not None else []) + inserted
            resized = resized or len(out) != 1
        for item in out:
            if item.id == "ST":
                count = 0
                resized = False
            count += 1
            if item.id == "SE" and resized:
                item = _derive(item, item.replaced("SE01", str(count)))
            yield item


@dataclass
class EditResult:
    """The segments after one in-memory pass, and what was applied or deferred."""

    segments: list[Segment]
    applied: list[AppliedEdit] = field(default_factory=list)
    deferred: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when any edit was applied."""
        return bool(self.applied)


def apply_fixes(
    segments: list[Segment], findings: Iterable[Finding], unsafe: bool = False
) -> EditResult:
    """One pass over an in-memory document: plan, then apply."""
    edits = plan(findings, unsafe)
    if not edits:
        return EditResult(segments, [], edits.deferred)
    return EditResult(list(apply_plan(segments, edits)), edits.applied, edits.deferred)
