"""The 999 implementation acknowledgement (005010X231A1): one ST*999 per functional group.

AK1 names the group (GS01, GS06, GS08). Per 837P transaction set an AK2 (ST01, ST02, ST03),
then its segment errors: IK3 (segment id, position in the set with ST = 1, loop id, IK304),
the business unit ``CTX*CLM01:<patient control number>`` when the segment belongs to a claim,
and per element an IK4 (position and component, data element number from pyx12's 837P map,
IK403, the bad value). IK5 closes the set: ``R`` when the split rejects the whole set (or
more), ``E`` when it is accepted but errors were noted (they reject only some claims, which
the 277CA returns), ``A`` otherwise. AK9 counts the sets and says ``A``, ``E``, ``P`` (some
rejected) or ``R``. A group the split rejects as a whole gets AK1 and AK9 ``R`` with its
AK905 codes.

IK404 is left out for segments that may identify a person (NM1, N3, N4, DMG, REF, PER): the
acknowledgement travels back through systems that are not meant to hold patient data.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from importlib import resources

from edi837.acks.intake import GroupRecord, Intake, SegmentError, TransactionRecord
from edi837.acks.model import Out, out
from edi837.x12.segment import parse_ref

VERSION = "005010X231A1"
# IK303 (data element 447) is AN 1-4: the 2300, 2400 and 2410 loop ids fit, 2010AA does not
# and is left out rather than cut to a different loop's id.
_LOOP_ID = re.compile(r"^\d{4}$")
_MISSING = re.compile(r"required (segment|loop) (\S+)")
_MAX_CODES = 5  # IK502-IK506, AK905-AK909
_MAX_VALUE = 99  # IK404 is AN 1-99


@cache
def data_elements() -> dict[str, str]:
    """Data element reference numbers of the 837P guide by element id (``SV101-02``: 234)."""
    path = resources.files("pyx12") / "map" / "837.5010.X222.A1.xml"
    found: dict[str, str] = {}
    with path.open("rb") as handle:
        for node in ET.parse(handle).iter("element"):
            xid = node.get("xid")
            number = node.findtext("data_ele")
            if xid and number:
                found.setdefault(xid, number)
    return found


@cache
def _loop_openers() -> dict[str, str]:
    """The segment id that opens each loop of the 837P guide (``2010AA``: ``NM1``)."""
    from edi837.x837p.guide import load_guide

    openers: dict[str, str] = {}
    for root in load_guide().loops_named("ISA_LOOP"):
        for loop in root.walk():
            opening = loop.opening
            if opening is not None:
                openers.setdefault(loop.id, opening.segment_id)
    return openers


def _codes(codes: list[str]) -> list[str]:
    unique: list[str] = []
    for code in codes:
        if code and code not in unique:
            unique.append(code)
    return unique[:_MAX_CODES]


def transaction_status(intake: Intake, record: TransactionRecord) -> str:
    """IK501 of one transaction set: ``R``, ``E`` or ``A``."""
    if intake.transaction_rejected(record):
        return "R"
    return "E" if record.errors else "A"


def build(intake: Intake, group: GroupRecord) -> list[Out]:
    """The body of the ST*999 answering ``group`` (AK1 to AK9)."""
    gs = group.gs
    body = [out("AK1", gs.element(1), gs.element(6), gs.element(8))]
    count = len(group.transactions)
    if intake.group_rejected(group):
        body.append(out("AK9", "R", str(count), str(count), "0", *_codes(group.codes)))
        return body
    statuses = []
    for record in group.transactions:
        status = transaction_status(intake, record)
        statuses.append(status)
        body.extend(_transaction(record, status))
    accepted = sum(1 for s in statuses if s != "R")
    if accepted == count:
        overall = "E" if "E" in statuses else "A"
    else:
        overall = "P" if accepted else "R"
    codes = _codes(group.codes) if overall != "A" else []
    body.append(out("AK9", overall, str(count), str(count), str(accepted), *codes))
    return body


def _transaction(record: TransactionRecord, status: str) -> list[Out]:
    st = record.st
    segments = [out("AK2", st.element(1), st.element(2), st.element(3))]
    segments.extend(_errors(record.errors))
    # IK502 says why a set was not simply accepted; an accepted set carries none.
    codes = _codes(record.codes) if status != "A" else []
    if status != "A" and not codes:
        codes = ["5"]  # one or more segments in error
    segments.append(out("IK5", status, *codes))
    return segments


def _errors(errors: list[SegmentError]) -> list[Out]:
    """IK3 loops: one per segment and syntax code, its element errors as IK4 below it."""
    segments: list[Out] = []
    order: list[tuple[int, str, str]] = []
    grouped: dict[tuple[int, str, str], list[SegmentError]] = {}
    for error in errors:
        finding = error.finding
        segment_id = finding.segment_id or ""
        if error.case.ik304 == "3":
            match = _MISSING.search(finding.message)
            if match is not None:
                name = match.group(2)
                segment_id = (
                    _loop_openers().get(name, segment_id)
                    if match.group(1) == "loop"
                    else name.split("*")[0]
                )
        # IK301 is AN 2-3: an unrecognised id that does not fit is cut to three characters,
        # one that is blank or a single character cannot be named (IK5 still says 5).
        segment_id = segment_id[:3]
        if len(segment_id) < 2 or not segment_id.isprintable():
            continue
        key = (error.position, segment_id, error.case.ik304)
        if key not in grouped:
            grouped[key] = []
            order.append(key)
        grouped[key].append(error)
    for key in sorted(order, key=lambda k: k[0]):
        position, segment_id, ik304 = key
        items = grouped[key]
        first = items[0].finding
        loop = first.loop if first.loop and _LOOP_ID.match(first.loop) else ""
        segments.append(out("IK3", segment_id, str(position), loop, ik304))
        claim = next((e.finding.claim for e in items if e.finding.claim), None)
        if claim:
            # The business unit: which claim the segment belongs to (X231A1 CTX, CLM01).
            segments.append(out("CTX", ("CLM01", claim)))
        seen: set[tuple[str, str]] = set()
        for error in items:
            # Several rules may report the same element with the same code: say it once.
            said = (error.finding.element or "", error.case.code)
            ik4 = _ik4(error)
            if ik4 is not None and said not in seen:
                seen.add(said)
                segments.append(ik4)
    return segments


def _ik4(error: SegmentError) -> Out | None:
    ref = error.finding.element
    if not error.case.code or not ref:
        return None
    try:
        parsed = parse_ref(ref)
    except ValueError:
        return None
    xid = f"{parsed.segment_id}{parsed.element:02d}"
    position: tuple[str, ...] = (str(parsed.element),)
    if parsed.component is not None:
        xid += f"-{parsed.component:02d}"
        position = (str(parsed.element), str(parsed.component))
    number = data_elements().get(xid, "")
    value = error.value[:_MAX_VALUE] if error.case.code not in ("1", "2") else ""
    return out("IK4", position, number, error.case.code, value)
