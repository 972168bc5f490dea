"""The 277CA claim acknowledgement (005010X214): one ST*277 per accepted 837P transaction set.

Levels, as the guide nests them: 2000A information source (HL 20, the clearinghouse that
received the file: the 837's 1000B receiver), 2000B information receiver (HL 21, the 837's
1000A submitter, with the batch's counts and amounts), 2000C billing provider (HL 19, per run
of claims of one 2010AA billing provider) and 2000D patient (HL PT) with one 2200D per claim:

- ``TRN*2*<CLM01>``;
- ``STC*<category>:<status>[:<entity>]*<date>*WQ|U*<CLM02>``: ``A2:20`` (accepted for
  processing, WQ) or, for a claim the split rejects, the status of its findings (``A7:218``
  for an invalid NDC, ``A6:218`` for a missing one ...; U), up to three (STC01, STC10, STC11);
- ``REF*1K``, the payer claim control number, for a claim accepted into adjudication when the
  run keeps a ledger (the ledger assigns it and stores it on the claim's row); without a
  ledger there is no such number and the segment is left out;
- ``REF*D9`` when the 837 carried the clearinghouse claim number (2300 REF*D9);
- ``DTP*472``: the service dates of the claim's lines (D8, or RD8 for a span);
- for a rejected claim, a 2220D per service line a finding is about: ``SVC`` (SV101, SV102,
  units), the line's ``STC`` (U), ``REF*FJ`` (the line item control number REF*6R) and its
  ``DTP*472``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from edi837.acks.intake import ClaimRecord, Intake, LineInfo, TransactionRecord
from edi837.acks.mapping import ACCEPTED, RECEIVED, UNPROCESSABLE, Status, ack_for, status_for
from edi837.acks.model import Element, Out, out

VERSION = "005010X214"
_MAX_STATUSES = 3  # STC01, STC10, STC11


def amount(value: Decimal) -> str:
    """An X12 ``R`` value: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def wanted(intake: Intake, record: TransactionRecord) -> bool:
    """A 277CA answers a transaction set the 999 accepted, when it holds claims."""
    return bool(record.claims) and not intake.transaction_rejected(record)


def claim_statuses(claim: ClaimRecord) -> list[Status]:
    """The statuses of one claim: accepted, or why the split rejected it."""
    if not claim.rejected:
        return [ACCEPTED]
    found = [status_for(f) for f in claim.findings]
    if not found:
        found = [ack_for(code).status for code in claim.level_codes()]
    return _unique(found) or [UNPROCESSABLE]


def _unique(statuses: list[Status]) -> list[Status]:
    unique: list[Status] = []
    for status in statuses:
        if status not in unique:
            unique.append(status)
    return unique[:_MAX_STATUSES]


def _stc(statuses: list[Status], date: str, action: str, charge: str) -> Out:
    first, *more = statuses
    extra: list[Element] = ["", "", "", "", ""]  # STC05-STC09 are not used
    extra += [_composite(s) for s in more]
    return out("STC", _composite(first), date, action, charge, *extra)


def _composite(status: Status) -> tuple[str, ...]:
    return (status.category, status.code, status.entity)


def _dtp(dates: tuple[str, str]) -> Out:
    first, last = dates
    if first == last:
        return out("DTP", "472", "D8", first)
    return out("DTP", "472", "RD8", f"{first}-{last}")


def build(intake: Intake, record: TransactionRecord, now: datetime, trace: str) -> list[Out]:
    """The body of the ST*277 answering ``record`` (BHT to the last claim)."""
    del intake
    date = now.strftime("%Y%m%d")
    claims = record.claims
    accepted = [c for c in claims if not c.rejected]
    rejected = [c for c in claims if c.rejected]
    body = [
        out("BHT", "0085", "08", trace, date, now.strftime("%H%M"), "TH"),
        # 2000A: the information source, the clearinghouse that received the claims.
        out("HL", "1", "", "20", "1"),
        out(
            "NM1",
            "AY",
            "2",
            record.receiver[0] or "UNKNOWN",
            "",
            "",
            "",
            "",
            "46",
            record.receiver[1] or record.group.gs.element(3) or "UNKNOWN",
        ),
        out("TRN", "1", trace),
        out("DTP", "050", "D8", date),
        out("DTP", "009", "D8", date),
        # 2000B: the information receiver, the submitter of the 837.
        out("HL", "2", "1", "21", "1"),
        _submitter(record),
        out("TRN", "2", record.bht03 or record.st.element(2)),
        out(
            "STC",
            _composite(RECEIVED),
            date,
            "WQ",
            amount(sum((c.charge for c in claims), Decimal(0))),
        ),
        *_totals(("90", "AA"), accepted, rejected),
    ]
    number = 2
    for run in _by_billing_provider(claims):
        number += 1
        provider = number
        body.extend(_provider(run, provider, date))
        for claim in run:
            number += 1
            body.extend(_claim(claim, number, provider, date, record.bht04))
    return body


def _submitter(record: TransactionRecord) -> Out:
    kind, last, first, middle, ident = record.submitter
    person = kind == "1"
    return out(
        "NM1",
        "41",
        "1" if person else "2",
        last or "UNKNOWN",
        first if person else "",
        middle if person else "",
        "",
        "",
        "46",
        ident or record.st.element(2),
    )


def _totals(
    qualifiers: tuple[str, str], accepted: list[ClaimRecord], rejected: list[ClaimRecord]
) -> list[Out]:
    """QTY and AMT of accepted and rejected claims (each only when there are some)."""
    found = []
    if accepted:
        found.append(out("QTY", qualifiers[0], str(len(accepted))))
    if rejected:
        found.append(out("QTY", qualifiers[1], str(len(rejected))))
    if accepted:
        found.append(out("AMT", "YU", amount(sum((c.charge for c in accepted), Decimal(0)))))
    if rejected:
        found.append(out("AMT", "YY", amount(sum((c.charge for c in rejected), Decimal(0)))))
    return found


def _by_billing_provider(claims: list[ClaimRecord]) -> list[list[ClaimRecord]]:
    runs: list[list[ClaimRecord]] = []
    for claim in claims:
        if runs and runs[-1][0].billing_key == claim.billing_key:
            runs[-1].append(claim)
        else:
            runs.append([claim])
    return runs


def _provider(run: list[ClaimRecord], number: int, date: str) -> list[Out]:
    kind, last, first, middle, suffix, npi = run[0].billing
    person = kind == "1"
    accepted = [c for c in run if not c.rejected]
    rejected = [c for c in run if c.rejected]
    total = amount(sum((c.charge for c in run), Decimal(0)))
    del date  # 2200C STC02 is not used
    return [
        out("HL", str(number), "2", "19", "1"),
        out(
            "NM1",
            "85",
            "1" if person else "2",
            last or "UNKNOWN",
            first if person else "",
            middle if person else "",
            "",
            suffix if person else "",
            "XX",
            npi or "UNKNOWN",
        ),
        out("TRN", "1", str(number)),
        out("STC", (RECEIVED.category, RECEIVED.code, "85"), "", "WQ", total),
        *_totals(("QA", "QC"), accepted, rejected),
    ]


def _claim(claim: ClaimRecord, number: int, parent: int, date: str, created: str) -> list[Out]:
    last, first, middle, suffix, member = claim.patient
    statuses = claim_statuses(claim)
    segments = [
        out("HL", str(number), str(parent), "PT"),
        out(
            "NM1",
            "QC",
            "1",
            last or "UNKNOWN",
            first,
            middle,
            "",
            suffix,
            "MI",
            member or "UNKNOWN",
        ),
        out("TRN", "2", claim.id or "UNKNOWN"),
        _stc(statuses, date, "U" if claim.rejected else "WQ", amount(claim.charge)),
    ]
    if claim.payer_control and not claim.rejected:
        # 005010X214 2200D REF*1K: the number under which the claim entered adjudication.
        segments.append(out("REF", "1K", claim.payer_control))
    if claim.clearinghouse_id:
        segments.append(out("REF", "D9", claim.clearinghouse_id))
    # DTP*472 is required: a claim without a valid line date carries the 837's creation date.
    fallback = created if len(created) == 8 and created.isdecimal() else date
    segments.append(_dtp(claim.dates or (fallback, fallback)))
    if claim.rejected:
        for line in claim.lines.values():
            segments.extend(_line(line, date))
    return segments


def _line(line: LineInfo, date: str) -> list[Out]:
    statuses = _unique([status_for(f) for f in line.findings]) or [UNPROCESSABLE]
    procedure = line.procedure if line.procedure and line.procedure[0] else ("HC", "")
    segments = [
        out("SVC", procedure, line.charge or "0", "", "", "", "", line.units),
        _stc(statuses, date, "U", ""),
    ]
    if line.control:
        segments.append(out("REF", "FJ", line.control))
    if line.dates:
        segments.append(_dtp(line.dates))
    return segments
