"""Findings, fixes and edits: the vocabulary every layer uses to report a problem.

A finding says what is wrong and where (interchange, transaction, claim, service line, loop,
segment, element). A finding may carry a :class:`Fix`: concrete :class:`Edit` objects with an
applicability, in the manner of ruff (``safe`` is applied by ``edi837 fix``; ``unsafe`` only
with ``--unsafe-fixes``; ``display`` is a suggestion in words, with no edit, never applied).
Nothing here changes a file; only the fixer applies edits.

This module sits at the bottom of the import graph so that the X12 layer, the 837P layer and
the rules can all report through the same type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is, as the rules catalogue defines it (§0)."""

    REJECT = "reject"
    DENY_RISK = "deny-risk"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        """Higher is worse; used by ``--fail-on`` and for sorting."""
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        """True when this severity is as bad as ``other`` or worse."""
        return self.rank >= other.rank


_RANK = {Severity.WARNING: 1, Severity.DENY_RISK: 2, Severity.REJECT: 3}


class Applicability(StrEnum):
    """Whether the fixer may apply a fix without being asked (ruff's Safe/Unsafe/DisplayOnly)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY = "display"  # a suggestion in words only: shown, never applied


class EditKind(StrEnum):
    """What an edit does to the segment stream."""

    REPLACE = "replace"  # set one element (or component) to a new value
    DELETE = "delete"  # remove a whole segment
    INSERT_AFTER = "insert_after"  # add a segment after the anchor segment
    REPLACE_LEAD = "replace_lead"  # set the white space before a segment (its text is kept)


@dataclass(frozen=True)
class Edit:
    """One concrete change, anchored on a segment by its 1-based ordinal in the file.

    ``element`` is a reference such as ``LIN03`` or ``SV101-3`` for ``REPLACE``; ``new`` is the
    element value for ``REPLACE``, the full segment text (no terminator) for inserts, and the
    new white space before the segment for ``REPLACE_LEAD``.
    """

    kind: EditKind
    segment_number: int
    element: str | None = None
    old: str | None = None
    new: str | None = None


@dataclass(frozen=True)
class Fix:
    """A set of edits that together repair one finding."""

    applicability: Applicability
    description: str
    edits: tuple[Edit, ...] = ()

    @property
    def concrete(self) -> bool:
        """A fix with no edits is a suggestion in words only; the fixer cannot apply it."""
        return bool(self.edits)

    def to_dict(self) -> dict[str, Any]:
        """The ``fix`` object of the JSON findings contract."""
        return {"applicability": self.applicability.value, "description": self.description}


@dataclass(frozen=True)
class Cause:
    """The finding that made another one inevitable: its code and segment number.

    ``caused_by`` of the JSON contract (version 2, an additive field). Reports use it to show a
    consequence indented under its cause instead of as a fault of its own.
    """

    code: str
    segment_number: int | None

    def to_dict(self) -> dict[str, Any]:
        """The ``caused_by`` object of the JSON findings contract."""
        return {"code": self.code, "segment_number": self.segment_number}


#: Longest value a message quotes whole; a longer one is shown by its start and its length.
QUOTE_LIMIT = 48
#: Longest message a finding carries. Messages quote values from the file, and a value may be
#: as long as a segment (up to the reader's 1 MB bound): past this the middle is left out, so
#: that a report row stays readable and fits a CSV reader's field limit.
MESSAGE_LIMIT = 1000


def quote(value: str) -> str:
    """``value`` quoted for a message: whole when short, else its start and its length."""
    if len(value) <= QUOTE_LIMIT:
        return repr(value)
    return f"{value[:QUOTE_LIMIT]!r}... ({len(value)} characters)"


def _clip(message: str) -> str:
    keep = MESSAGE_LIMIT // 2
    left_out = len(message) - 2 * keep
    return f"{message[:keep]} ... ({left_out} characters left out) ... {message[-keep:]}"


@dataclass
class Finding:
    """One problem, located as precisely as the data allows.

    The location fields follow the JSON contract of ``architecture.md`` §3: ``claim`` is
    CLM01, ``line`` the LX01 of the service line (``None`` when the finding is not about a
    line), ``segment_number`` the 1-based ordinal of the segment in the file.
    """

    code: str
    severity: Severity
    message: str
    segment_id: str | None = None
    segment_number: int | None = None
    byte_offset: int | None = None
    line_number: int | None = None
    element: str | None = None
    loop: str | None = None
    interchange: str | None = None
    transaction: str | None = None
    claim: str | None = None
    line: int | None = None
    fix: Fix | None = None
    segment_text: str | None = field(default=None, compare=False)
    column: int | None = field(default=None, compare=False)
    width: int | None = field(default=None, compare=False)
    caused_by: Cause | None = None
    # The cause itself, so reports can place a consequence under the right one of several
    # findings that share a code and segment; never serialised.
    cause: Finding | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.message) > MESSAGE_LIMIT:
            self.message = _clip(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The finding object of ``check -f json``, key order as in the contract.

        ``caused_by`` appears only on consequences, so a finding without a cause is written
        exactly as before the field existed.
        """
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "interchange": self.interchange,
            "transaction": self.transaction,
            "claim": self.claim,
            "line": self.line,
            "loop": self.loop,
            "segment": self.segment_id,
            "segment_number": self.segment_number,
            "byte_offset": self.byte_offset,
            "element": self.element,
            "fix": self.fix.to_dict() if self.fix else None,
        }
        if self.caused_by is not None:
            out["caused_by"] = self.caused_by.to_dict()
        return out

    @property
    def sort_key(self) -> tuple[int, int, str]:
        """File order first, then worst first, then code."""
        return (self.segment_number or 0, -self.severity.rank, self.code)
