"""Building and writing the acknowledgements of one 837P file.

:func:`build_acks` reads the file once (:mod:`edi837.acks.intake`) and returns the bytes of
each acknowledgement type that applies; :func:`write_acks` writes them as ``DIR/NAME.ta1``,
``DIR/NAME.999`` and ``DIR/NAME.277ca``, each atomically. Each answer to an input interchange
is an interchange of its own, written with the input's delimiters (or those given) and the same
line break after each terminator; several input interchanges give several answers, one after
the other in the same file. Control numbers (ISA13 and GS06) come from one counter, in the
order TA1, 999, 277CA; ST02 counts from 0001 in every group.

A run with a ledger passes ``reserve``: it is called once the file has been read, with the
intake, and returns the numbers to use (a block of control numbers at least
:func:`control_numbers_needed` long, and a payer claim control number per claim the 277CA
accepts), so that the block is reserved from the ledger's counter before anything is built.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from edi837.acks import ack277, ack999, ta1
from edi837.acks.intake import ClaimRecord, Intake, InterchangeRecord, read
from edi837.acks.model import ControlNumbers, Out, Style, ge, gs, iea, isa, transaction
from edi837.engine import Engine
from edi837.findings import Severity
from edi837.source import Origin, Source, as_source
from edi837.x12.segment import Delimiters
from edi837.x12.writer import atomic_output

#: The acknowledgement types, in the order they are numbered and written.
TYPES = ("ta1", "999", "277ca")
# Repetition separators to choose from when the input declares none (ISA11 "U" before 00501).
_REPETITION_CANDIDATES = "^{|!`\\"


@dataclass
class Acknowledgements:
    """The acknowledgements of one file: the bytes per type, and how the file was judged.

    Attributes:
        files: per type (``ta1``, ``999``, ``277ca``), the bytes to write; a type that does not
            apply is absent.
        intake: the records and decisions the acknowledgements were built from.
        next_control_number: the first control number not used (for the next file).
    """

    files: dict[str, bytes] = field(default_factory=dict)
    intake: Intake | None = None
    next_control_number: int = 1


@dataclass
class Numbers:
    """The numbers one file's acknowledgements use.

    Attributes:
        control: the counter ISA13 and GS06 are taken from.
        claims: per claim ordinal (0-based, in file order), the payer claim control number
            the 277CA gives as REF*1K; a claim not named here gets no REF*1K.
    """

    control: ControlNumbers
    claims: dict[int, str] = field(default_factory=dict)


#: Called with the intake once the file is read; returns the numbers to build with.
Reserve = Callable[[Intake], Numbers]


def control_numbers_needed(intake: Intake) -> int:
    """An upper bound on the control numbers the acknowledgements of ``intake`` take.

    Per interchange: the TA1's ISA13 (1), the 999's ISA13 and one GS06 per group (1 + groups)
    and the same for the 277CA; fewer are used when a type does not apply.
    """
    return sum(3 + 2 * len(record.groups) for record in intake.interchanges)


def claims_of(intake: Intake) -> list[ClaimRecord]:
    """Every claim record of ``intake``, in file order."""
    return [
        claim
        for interchange in intake.interchanges
        for group in interchange.groups
        for transaction in group.transactions
        for claim in transaction.claims
    ]


def accepted_claims(intake: Intake) -> list[int]:
    """The ordinals of the claims the 277CA accepts (those the split accepts)."""
    return [claim.ordinal for claim in claims_of(intake) if not claim.rejected]


def parse_types(value: str | Iterable[str]) -> tuple[str, ...]:
    """``ta1,999`` as a tuple of known types, in :data:`TYPES` order; raises ``ValueError``."""
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(wanted - set(TYPES))
    if unknown:
        raise ValueError(f"unknown acknowledgement type {unknown[0]!r} (use {', '.join(TYPES)})")
    if not wanted:
        raise ValueError(f"no acknowledgement type given (use {', '.join(TYPES)})")
    return tuple(t for t in TYPES if t in wanted)


def parse_delimiters(value: str) -> Delimiters:
    """``*:~^``: element separator, component separator, segment terminator, repetition.

    The four must be distinct, and none a letter, digit or space (they would be data).
    """
    if len(value) not in (3, 4):
        raise ValueError(
            "--delimiters takes 3 or 4 characters: element, component, terminator[, repetition]"
        )
    chars = list(value)
    if len(set(chars)) != len(chars) or any(c.isalnum() or c == " " for c in chars):
        raise ValueError("the delimiters must be distinct and not letters, digits or spaces")
    return Delimiters(chars[0], chars[1], chars[2], chars[3] if len(chars) == 4 else None)


def _style(record: InterchangeRecord, delimiters: Delimiters | None) -> Style:
    given = delimiters or record.isa.delimiters
    repetition = given.repetition
    if not repetition:
        taken = {given.element, given.component, given.segment}
        repetition = next(c for c in _REPETITION_CANDIDATES if c not in taken)
    chosen = Delimiters(given.element, given.component, given.segment, repetition)
    line_end = "" if chosen.segment in "\r\n" else record.line_end
    if delimiters is not None and chosen.segment not in "\r\n" and not line_end:
        line_end = "\n"
    return Style(chosen, line_end)


def creation_time() -> datetime:
    """Now, in UTC; or ``SOURCE_DATE_EPOCH`` when set, for reproducible outputs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdecimal():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def serialise(segments: list[Out], style: Style) -> bytes:
    """The segments as X12 text with the style's delimiters, in UTF-8."""
    end = style.delimiters.segment + style.line_end
    return "".join(seg.text(style.delimiters) + end for seg in segments).encode("utf-8")


def build_acks(
    source: Origin | Source,
    *,
    engine: Engine,
    types: Iterable[str] = TYPES,
    control_number: int | ControlNumbers = 1,
    fail_on: Severity = Severity.REJECT,
    now: datetime | None = None,
    delimiters: Delimiters | None = None,
    reserve: Reserve | None = None,
) -> Acknowledgements:
    """Check ``source`` and build its acknowledgements.

    ``reserve``, when given, supplies the numbers once the file is read (``control_number``
    is then not used). Raises :class:`~edi837.x12.reader.X12SyntaxError` for input that is
    not X12 and :class:`~edi837.source.No837P` when it holds no 837P transaction set (an
    acknowledgement, for one, is never acknowledged).
    """
    wanted = parse_types(types)
    moment = now or creation_time()
    intake = read(as_source(source), engine, Severity(fail_on))
    if reserve is not None:
        numbers = reserve(intake)
        counter = numbers.control
        for claim in claims_of(intake):
            claim.payer_control = numbers.claims.get(claim.ordinal, "")
    elif isinstance(control_number, ControlNumbers):
        counter = control_number
    else:
        counter = ControlNumbers(control_number)
    result = Acknowledgements(intake=intake)
    builders = {"ta1": _ta1, "999": _999, "277ca": _277}
    for kind in wanted:
        data = b"".join(
            builders[kind](intake, record, counter, moment, _style(record, delimiters))
            for record in intake.interchanges
        )
        if data:
            result.files[kind] = data
    result.next_control_number = counter.next_number
    return result


def _ta1(
    intake: Intake, record: InterchangeRecord, counter: ControlNumbers, now: datetime, style: Style
) -> bytes:
    if not ta1.wanted(intake, record):
        return b""
    control = counter.take()
    segments = [isa(record.isa, control, now, style), ta1.build(intake, record), iea(0, control)]
    return serialise(segments, style)


def _999(
    intake: Intake, record: InterchangeRecord, counter: ControlNumbers, now: datetime, style: Style
) -> bytes:
    groups = [g for g in record.groups if g.transactions and g.gs.element(1) != "FA"]
    if not groups or intake.interchange_rejected(record):
        return b""
    control = counter.take()
    segments = [isa(record.isa, control, now, style)]
    for group in groups:
        number = counter.take()
        segments.append(gs(group.gs, "FA", ack999.VERSION, number, now))
        segments.extend(transaction("999", 1, ack999.VERSION, ack999.build(intake, group)))
        segments.append(ge(1, number))
    segments.append(iea(len(groups), control))
    return serialise(segments, style)


def _277(
    intake: Intake, record: InterchangeRecord, counter: ControlNumbers, now: datetime, style: Style
) -> bytes:
    groups = [
        (g, [t for t in g.transactions if ack277.wanted(intake, t)])
        for g in record.groups
        if g.gs.element(1) != "FA"
    ]
    groups = [(g, ts) for g, ts in groups if ts]
    if not groups or intake.interchange_rejected(record):
        return b""
    control = counter.take()
    segments = [isa(record.isa, control, now, style)]
    for group, transactions in groups:
        number = counter.take()
        segments.append(gs(group.gs, "HN", ack277.VERSION, number, now))
        for index, item in enumerate(transactions, 1):
            trace = f"{number}{index:04d}"
            body = ack277.build(intake, item, now, trace)
            segments.extend(transaction("277", index, ack277.VERSION, body))
        segments.append(ge(len(transactions), number))
    segments.append(iea(len(groups), control))
    return serialise(segments, style)


def output_paths(outdir: Path, name: str) -> dict[str, Path]:
    """Where each type goes: ``DIR/NAME.ta1``, ``DIR/NAME.999``, ``DIR/NAME.277ca``."""
    return {kind: outdir / f"{name}.{kind}" for kind in TYPES}


def write_acks(
    source: Origin | Source,
    outdir: str | os.PathLike[str],
    *,
    engine: Engine,
    types: Iterable[str] = TYPES,
    control_number: int | ControlNumbers = 1,
    fail_on: Severity = Severity.REJECT,
    name: str | None = None,
    now: datetime | None = None,
    delimiters: Delimiters | None = None,
    reserve: Reserve | None = None,
) -> list[Path]:
    """Write the acknowledgements of ``source`` that apply into ``outdir``; return their paths.

    ``name`` defaults to the input's file name without its extension (``stdin`` for standard
    input). Pass a :class:`~edi837.acks.model.ControlNumbers` as ``control_number`` to carry
    the counter from one file to the next. Raises as :func:`build_acks` does, before anything
    is written.
    """
    src = as_source(source)
    if name is None:
        name = Path(src.name).stem if src.path is not None else "stdin"
    acks = build_acks(
        src,
        engine=engine,
        types=types,
        control_number=control_number,
        fail_on=fail_on,
        now=now,
        delimiters=delimiters,
        reserve=reserve,
    )
    folder = Path(outdir)
    paths = output_paths(folder, name)
    written: list[Path] = []
    for kind in TYPES:
        data = acks.files.get(kind)
        if data is None:
            continue
        with atomic_output(paths[kind]) as handle:
            handle.write(data)
        written.append(paths[kind])
    return written


__all__ = [
    "TYPES",
    "Acknowledgements",
    "Numbers",
    "Reserve",
    "accepted_claims",
    "build_acks",
    "claims_of",
    "control_numbers_needed",
    "output_paths",
    "parse_delimiters",
    "parse_types",
    "serialise",
    "write_acks",
]
