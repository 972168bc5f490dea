"""Root causes: which findings are the inevitable consequence of another in the same unit.

One fault often trips several checks. A service line whose SV101-1 qualifier is unknown is not
placed as an SV1, so the guide reports the required SV1 missing (SEG-003) and the segment
unexpected (SEG-002), and the line's diagnosis pointers are then empty (DX-002). A person sees
one mistake. :data:`RELATIONS` names each such pair, with the scope in which the two findings
must lie for one to be the consequence of the other; :func:`group` marks every consequence with
the root cause it follows from (``Finding.caused_by``). Nothing is dropped and no severity
changes: exit codes, split and acknowledgements see the same findings as before, only the
reports present them under their cause.

``docs/root-causes.md`` is generated from :data:`RELATIONS` (``make docs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from edi837.findings import Cause, Finding


class Scope(StrEnum):
    """Where a consequence must lie relative to its cause."""

    ELEMENT = "element"  # the same element (components of one composite count as one)
    SEGMENT = "segment"  # the same segment of the file
    LINE = "line"  # the same service line of the same claim
    CLAIM = "claim"  # the same claim


@dataclass(frozen=True)
class Relation:
    """``consequence`` findings follow from a ``cause`` finding within ``scope``."""

    cause: str
    consequence: str
    scope: Scope
    why: str


RELATIONS: tuple[Relation, ...] = (
    Relation(
        "SEG-002",
        "SEG-003",
        Scope.LINE,
        "A segment the guide cannot place (e.g. SV1 with an unknown SV101-1 qualifier) is "
        "reported missing from the service line it was meant to open.",
    ),
    Relation(
        "SEG-002",
        "DX-002",
        Scope.LINE,
        "A service line whose SV1 was not placed has no diagnosis pointers to check.",
    ),
    *(
        Relation(
            "SEG-002",
            code,
            Scope.SEGMENT,
            "The elements of a segment the guide does not expect there are checked against "
            "a definition that is not theirs.",
        )
        for code in ("ELM-001", "ELM-002", "ELM-003", "ELM-004", "ELM-005", "ELM-006")
    ),
    Relation(
        "HL-001",
        "HL-002",
        Scope.SEGMENT,
        "With HL01 repeated or out of sequence, the parent an HL02 points to is not the level "
        "the hierarchy means.",
    ),
    Relation(
        "HL-001",
        "HL-003",
        Scope.SEGMENT,
        "With HL01 repeated or out of sequence, the children HL04 announces are counted "
        "against the wrong level.",
    ),
    Relation(
        "ELM-003",
        "ELM-002",
        Scope.ELEMENT,
        "A code that is not in the list usually has the wrong length too.",
    ),
    Relation(
        "ELM-003",
        "ELM-001",
        Scope.ELEMENT,
        "A qualifier run into its value (a missing component separator, as in HI*ABFJ45) "
        "leaves the composite's next component empty.",
    ),
    Relation(
        "ELM-003",
        "SUP-001",
        Scope.ELEMENT,
        "NM108 outside the code list is the same fault SUP-001 explains for a supervising "
        "provider.",
    ),
    Relation(
        "ELM-001",
        "FRQ-001",
        Scope.ELEMENT,
        "An empty CLM05 leaves its place of service and frequency components empty.",
    ),
)

_BY_CONSEQUENCE: dict[str, tuple[Relation, ...]] = {}
for _relation in RELATIONS:
    _BY_CONSEQUENCE[_relation.consequence] = (
        *_BY_CONSEQUENCE.get(_relation.consequence, ()),
        _relation,
    )


def _composite(element: str | None) -> str | None:
    # SV101-1 and SV101-2 are components of one composite element, SV101.
    return element.split("-", 1)[0] if element else None


def _same(scope: Scope, cause: Finding, finding: Finding) -> bool:
    if (cause.interchange, cause.transaction) != (finding.interchange, finding.transaction):
        return False
    if scope is Scope.CLAIM:
        return cause.claim is not None and cause.claim == finding.claim
    if scope is Scope.LINE:
        return (
            cause.claim is not None
            and cause.line is not None
            and (cause.claim, cause.line) == (finding.claim, finding.line)
        )
    if cause.segment_number is None or cause.segment_number != finding.segment_number:
        return False
    if scope is Scope.ELEMENT:
        return cause.element is not None and _composite(cause.element) == _composite(
            finding.element
        )
    return True


def _direct_cause(finding: Finding, findings: list[Finding]) -> Finding | None:
    for relation in _BY_CONSEQUENCE.get(finding.code, ()):
        for other in findings:
            if (
                other is not finding
                and other.code == relation.cause
                and _same(relation.scope, other, finding)
            ):
                return other
    return None


def group(findings: list[Finding]) -> list[Finding]:
    """Mark each consequence in one unit's findings with its root cause; returns the list.

    A chain (a cause that is itself a consequence) is followed to its root, so every
    consequence hangs under a finding that has no cause of its own. The order is kept.
    """
    if len(findings) < 2:
        return findings
    direct = {id(f): _direct_cause(f, findings) for f in findings}
    for finding in findings:
        root = direct[id(finding)]
        seen = {id(finding)}
        while root is not None and direct[id(root)] is not None and id(root) not in seen:
            seen.add(id(root))
            root = direct[id(root)]
        if root is None or id(root) in seen:
            continue
        finding.cause = root
        finding.caused_by = Cause(root.code, root.segment_number)
    return findings


def consequences(findings: list[Finding]) -> dict[int, list[Finding]]:
    """Each cause's consequences, keyed by ``id`` of the cause, in report order."""
    out: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.cause is not None:
            out.setdefault(id(finding.cause), []).append(finding)
    return out


def by_cause(findings: Sequence[Finding]) -> list[Finding]:
    """The findings in report order with each consequence moved right after its cause.

    A consequence whose cause is not among ``findings`` stays where it was.
    """
    under = consequences(list(findings))
    out: list[Finding] = []
    for finding in findings:
        if finding.cause is not None and id(finding.cause) in under:
            continue
        out.append(finding)
        out.extend(under.get(id(finding), ()))
    return out


def markdown() -> str:
    """``docs/root-causes.md``: the relations as a table, generated so it cannot drift."""
    lines = [
        "# Root causes",
        "",
        "<!-- Generated by `python -m edi837.causes` (`make docs`); do not edit. -->",
        "",
        "When one fault makes other findings inevitable, `edi837 check` reports the fault once",
        "and attaches the others to it: in JSON each consequence carries",
        '`"caused_by": {"code": ..., "segment_number": ...}` naming its root cause; the text,',
        "HTML and annotate reports show it indented under the cause, and the summary line counts",
        "root causes. Consequences keep their code and severity, so exit codes, `split` and the",
        "acknowledgements are unchanged. Grouping happens within one claim (or the segments",
        "between claims) and follows chains to the first cause.",
        "",
        "Scope says where the consequence must lie: `element` the same element of the same",
        "segment (components of one composite count as one), `segment` the same segment,",
        "`line` the same service line of the same claim, `claim` the same claim.",
        "",
        "| Cause | Consequence | Scope | Why |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r.cause} | {r.consequence} | {r.scope} | {r.why} |" for r in RELATIONS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
