"""Fixing: plan edits without conflicts, apply them to a segment stream, repeat until done.

This is the only module that changes segments, and every caller (``edi837 fix``, ``batch``,
the library's :func:`edi837.api.fix` and the rule-case tests) runs the same loop:

1. :func:`plan` takes the findings of a check and keeps, in file order, every fix the user
   allowed (``safe``, or ``unsafe`` with ``--unsafe-fixes``; ``display`` fixes are words only)
   whose edits touch no element that an earlier fix of the same pass touches, as ruff and
   sqlfluff do; the rest wait for the next pass, after a re-check.
2. :func:`apply_plan` streams the segments, applies the planned edits by segment ordinal and
   recounts SE01 of a transaction whose segments were added or removed (catalogue R-OUT-002).
   Control numbers (ISA13, GS06, ST02) are never changed.
3. :func:`correct` runs check, plan and apply pass after pass, each pass streaming the current
   version to a temporary file, until a check plans no edit. It stops after
   :data:`MAX_PASSES` (a runaway guard, as in sqlfluff) or when a pass produces a version it
   has produced before (two fixes undoing each other), and says which.

New segments take the layout (line break, indentation, terminator) of the segment they
follow, so the output keeps the input's style. Every applied edit is logged with its rule,
claim, line, segment, element and the old and new values (catalogue R-OUT-004).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from edi837.findings import Applicability, Edit, EditKind, Finding
from edi837.source import Source
from edi837.x12.reader import X12SyntaxError
from edi837.x12.segment import Segment
from edi837.x12.writer import SegmentWriter, create_temporary

if TYPE_CHECKING:
    from edi837.engine import Engine

MAX_PASSES = 10


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
            elif edit.kind is EditKind.DELETE and any(
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
            if edit.kind is EditKind.DELETE:
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
        elif edit.kind is EditKind.REPLACE_LEAD:
            assert edit.new is not None
            # Only the white space before the segment changes; its text stays byte-exact.
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
class LoggedEdit:
    """One applied edit, as written to the ``--log`` file."""

    code: str
    claim: str | None
    line: int | None
    segment_number: int
    element: str | None
    kind: str
    old: str | None
    new: str | None
    pass_number: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of one log entry."""
        return {
            "code": self.code,
            "claim": self.claim,
            "line": self.line,
            "segment_number": self.segment_number,
            "element": self.element,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "pass": self.pass_number,
        }


@dataclass
class Correction:
    """The outcome of the fixing loop over one input.

    Attributes:
        result: the corrected version, a temporary file the caller publishes and removes;
            ``None`` when no edit was applied (the input is already the result).
        edits: every applied edit, pass by pass.
        fixed_findings: findings repaired.
        remaining: the findings of the last check (what is still wrong).
        passes: passes that applied edits.
        stopped: ``None`` when the loop ended because nothing was left to fix; otherwise why
            it stopped early (``runaway``: :data:`MAX_PASSES` reached; ``oscillation``: a pass
            produced a version seen before).
    """

    result: Path | None = None
    edits: list[LoggedEdit] = field(default_factory=list)
    fixed_findings: int = 0
    remaining: list[Finding] = field(default_factory=list)
    passes: int = 0
    stopped: str | None = None

    @property
    def changed(self) -> bool:
        """True when at least one edit was applied."""
        return bool(self.edits)

    def remaining_unsafe(self) -> int:
        """Remaining findings that ``--unsafe-fixes`` could still repair."""
        return sum(
            1
            for f in self.remaining
            if f.fix is not None and f.fix.concrete and f.fix.applicability is Applicability.UNSAFE
        )

    def discard(self) -> None:
        """Remove the temporary corrected version."""
        if self.result is not None:
            self.result.unlink(missing_ok=True)
            self.result = None


def _check(engine: Engine, source: Source) -> tuple[list[Finding], X12SyntaxError | None]:
    """The findings of one pass, and the :class:`No837P` outcome when the file has no 837P."""
    found: list[Finding] = []
    with source.open() as stream:
        units = source.units(stream)
        for _unit, findings in engine.iter_checked(units):
            found.extend(findings)
    return found, units.no_837p()


def _temporary(workdir: Path, name: str) -> tuple[int, Path]:
    # A hidden name that no input pattern (``*.837``, ``*.x12``) matches, so a folder watcher
    # never picks up a half-written pass, and that the next run in the folder sweeps away when
    # a killed run left it behind.
    return create_temporary(workdir, Path(name).name or "stdin")


def correct(
    engine: Engine, source: Source, workdir: Path | None = None, unsafe: bool = False
) -> Correction:
    """Check, fix and re-check ``source`` until nothing changes; see the module docstring.

    Intermediate versions are written to ``workdir`` (default: the system's temporary folder)
    and removed as the loop moves on. Raises :class:`~edi837.x12.reader.X12SyntaxError` (or
    :class:`~edi837.source.No837P`) for input that cannot be read; nothing is left behind then.
    """
    folder = workdir if workdir is not None else Path(tempfile.gettempdir())
    correction = Correction()
    current = source
    seen: set[bytes] = set()
    try:
        for number in range(1, MAX_PASSES + 2):
            findings, no_837p = _check(engine, current)
            correction.remaining = findings
            edits = plan(findings, unsafe)
            if not edits:
                # A file of other transaction sets is refused, unless a fix made it an 837P
                # (ENV-004: an ST01 mistyped in a group whose GS08 names the 837P guide).
                # Envelope fixes alone (ISA padding) leave it what it was: still refused.
                if no_837p is not None:
                    raise no_837p
                break
            if number > MAX_PASSES:
                correction.stopped = "runaway"
                break
            fd, tmp = _temporary(folder, source.name)
            digest = hashlib.sha256()
            with current.open() as stream, os.fdopen(fd, "wb") as out:
                segments = current.segments(stream)
                sink = cast(BinaryIO, _Hashing(out, digest))
                writer = SegmentWriter(sink, segments.codec, segments.bom)
                for seg in apply_plan(segments, edits):
                    writer.write(seg)
                writer.close(segments.tail)
            correction.passes = number
            correction.edits.extend(_logged(applied, number) for applied in edits.applied)
            correction.fixed_findings += len({id(a.finding) for a in edits.applied})
            correction.discard()
            correction.result = tmp
            current = Source(tmp, source.name)
            if digest.digest() in seen:
                correction.stopped = "oscillation"
                correction.remaining = _check(engine, current)[0]
                break
            seen.add(digest.digest())
    except BaseException:
        correction.discard()
        raise
    return correction


class _Hashing:
    """A binary sink that hashes what passes through, to notice a pass repeating itself."""

    def __init__(self, out: Any, digest: Any) -> None:
        self._out = out
        self._digest = digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return int(self._out.write(data))

    def flush(self) -> None:
        self._out.flush()


def _logged(applied: AppliedEdit, pass_number: int) -> LoggedEdit:
    finding, edit = applied.finding, applied.edit
    return LoggedEdit(
        code=finding.code,
        claim=finding.claim,
        line=finding.line,
        segment_number=edit.segment_number,
        element=edit.element,
        kind=edit.kind.value,
        old=edit.old,
        new=edit.new,
        pass_number=pass_number,
    )


def segment_diff(before: Source, after: Source, name: str) -> Iterator[str]:
    """A unified diff of the two versions, one segment per line (``--diff``)."""
    import difflib

    def lines(source: Source) -> list[str]:
        with source.open() as stream:
            return [seg.text for seg in source.segments(stream)]

    yield from difflib.unified_diff(
        lines(before), lines(after), f"{name}", f"{name} (fixed)", lineterm=""
    )
