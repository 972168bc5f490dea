"""The 837P transaction header: versions (ENV-004), BHT (ENV-010), submitter and receiver (ENV-011).

The X12 envelope checker (:mod:`edi837.x12.envelope`) knows ISA/GS/ST and their trailers for any
transaction set; what an 837P adds on top of them is checked here, fed by the loop tracker as it
places the segments:

- ``ENV-004`` the versions and ids a 005010X222A1 claim must carry: ISA12 ``00501``, GS01
  ``HC``, GS08 ``005010X222A1``, ST01 ``837``, ST03 equal to GS08 (absent is a warning);
- ``ENV-010`` BHT right after ST, once, with BHT01 ``0019``, BHT02 ``00``/``18``, BHT03, a real
  BHT04 date and BHT05 time, BHT06 ``CH``/``RP``;
- ``ENV-011`` a 1000A submitter name with its PER contact, and a 1000B receiver name, before
  the first HL.

It holds the current ISA and GS segments and a few flags for the current transaction.
"""

from __future__ import annotations

from edi837.findings import Finding, Severity
from edi837.x12.checks import ENV002, Check, data_delimiters, delimiters_in
from edi837.x12.envelope import guide_id
from edi837.x12.segment import Segment
from edi837.x837p.checks import ENV004, ENV010, ENV011
from edi837.x837p.elements import is_date, is_time

GUIDE_837P = "005010X222A1"


class HeaderChecker:
    """ENV-004, ENV-010 and ENV-011 for the transactions of one file, segment by segment.

    The tracker calls :meth:`interchange`, :meth:`group` and :meth:`transaction` for every ISA,
    GS and ST (of any transaction set: the versions of a set meant as 837P are checked even
    when it is skipped), :meth:`start` when an 837P transaction's body begins, and
    :meth:`feed` with every segment while :attr:`open` (up to the first HL or the SE).
    """

    def __init__(self) -> None:
        self._isa: Segment | None = None
        self._gs: Segment | None = None
        self._isa_checked = False
        self._gs_checked = False
        self.open = False
        self._bht_seen = False
        self._submitter: Segment | None = None
        self._submitter_per = False
        self._receiver = False
        self._transaction: str | None = None
        self._body = 0

    # -- envelopes -----------------------------------------------------------------------------

    def interchange(self, isa: Segment | None) -> None:
        """An ISA opens an interchange (``None``: its IEA closed it)."""
        self._isa = isa
        self._gs = None
        self._isa_checked = False
        self.open = False

    def group(self, gs: Segment | None) -> None:
        """A GS opens a functional group (``None``: its GE closed it)."""
        self._gs = gs
        self._gs_checked = False
        self.open = False

    def _finding(
        self,
        check: type[Check],
        message: str,
        seg: Segment,
        element: str | None = None,
        loop: str | None = None,
        transaction: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        isa = self._isa
        return check.finding(
            message,
            seg,
            element,
            loop=loop,
            severity=severity,
            interchange=(isa[13] or None) if isa is not None else None,
            transaction=transaction,
        )

    def transaction(self, st: Segment) -> list[Finding]:
        """ENV-004, for transaction sets meant as 837P claims.

        A transaction set is held to the 837P versions when ST01 is 837 and no other guide is
        named (837I, 837D, a 4010 guide), or when GS08 or ST03 names the 837P guide. An 835 or
        an 837I in the same file is another document, which is reported as skipped.
        """
        self.open = False
        st01, st03 = st[1], st[3]
        transaction = st[2] or None
        gs, isa = self._gs, self._isa
        gs08 = gs[8] if gs is not None else ""
        version = st03 or gs08
        named_837p = guide_id(gs08) == "X222" or guide_id(st03) == "X222"
        other_guide = guide_id(version) not in ("", "X222")
        if not (named_837p or (st01 == "837" and not other_guide)):
            return []
        out: list[Finding] = []
        if st01 != "837":
            out.append(
                self._finding(
                    ENV004,
                    f"ST01 is {st01!r}, but the version names the 837P guide; ST01 must be 837",
                    st,
                    "ST01",
                    "ST_LOOP",
                    transaction,
                )
            )
        if isa is not None and not self._isa_checked:
            self._isa_checked = True
            if isa[12] != "00501":
                out.append(
                    self._finding(
                        ENV004,
                        f"ISA12 is {isa[12]!r}, must be '00501' for {GUIDE_837P} claims",
                        isa,
                        "ISA12",
                        "ISA_LOOP",
                    )
                )
        if gs is not None and not self._gs_checked:
            self._gs_checked = True
            if gs[1] != "HC":
                out.append(
                    self._finding(
                        ENV004,
                        f"GS01 is {gs[1]!r}, must be 'HC' (health care claim) for 837 "
                        "transaction sets",
                        gs,
                        "GS01",
                        "GS_LOOP",
                    )
                )
            if gs08 != GUIDE_837P:
                out.append(
                    self._finding(
                        ENV004, f"GS08 is {gs08!r}, must be {GUIDE_837P!r}", gs, "GS08", "GS_LOOP"
                    )
                )
        if not st03:
            expected = gs08 if gs08 == GUIDE_837P else GUIDE_837P
            out.append(
                self._finding(
                    ENV004,
                    f"ST03 is absent; it should carry the guide id {expected!r}, the same "
                    "value as GS08",
                    st,
                    "ST03",
                    "ST_LOOP",
                    transaction,
                    severity=Severity.WARNING,
                )
            )
        elif gs is not None and st03 != gs08:
            out.append(
                self._finding(
                    ENV004,
                    f"ST03 is {st03!r}, must equal GS08 {gs08!r}"
                    + (
                        ""
                        if st03 == GUIDE_837P or gs08 == GUIDE_837P
                        else f" and be {GUIDE_837P!r}"
                    ),
                    st,
                    "ST03",
                    "ST_LOOP",
                    transaction,
                )
            )
        elif gs is None and st03 != GUIDE_837P:
            out.append(
                self._finding(
                    ENV004,
                    f"ST03 is {st03!r}, must be {GUIDE_837P!r}",
                    st,
                    "ST03",
                    "ST_LOOP",
                    transaction,
                )
            )
        return out

    # -- the 837P header -------------------------------------------------------------------------

    def start(self, st: Segment) -> None:
        """An 837P transaction begins: its header is looked at until the first HL."""
        self.open = True
        self._bht_seen = False
        self._submitter = None
        self._submitter_per = False
        self._receiver = False
        self._transaction = st[2] or None
        self._body = 0

    def feed(self, seg: Segment) -> list[Finding]:
        """A segment of an open 837P header, whatever loop it was placed in.

        The header is read by segment id and qualifier rather than by placement, so that a
        misplaced BHT or submitter name is still looked at (and reported where it stands).
        """
        self._body += 1
        sid = seg.id
        if sid == "BHT":
            return self._bht(seg)
        if sid == "NM1":
            qualifier = seg[1]
            if qualifier == "41":
                self._submitter = seg
                self._submitter_per = False
            elif qualifier == "40":
                self._receiver = True
        elif sid == "PER":
            # The 1000A PER is the submitter's EDI contact; it belongs to the NM1*41 before it.
            if self._submitter is not None and not self._receiver:
                self._submitter_per = True
        elif sid in ("HL", "SE"):
            return self.end(seg)
        return []

    def _bht(self, seg: Segment) -> list[Finding]:
        """ENV-010 for a BHT."""
        out: list[Finding] = []
        transaction = self._transaction

        def bad(ref: str, message: str) -> None:
            out.append(self._finding(ENV010, message, seg, ref, "HEADER", transaction))

        if self._bht_seen or self._body != 1:
            out.append(
                self._finding(
                    ENV010,
                    "BHT must be the segment right after ST, once per transaction set",
                    seg,
                    None,
                    "HEADER",
                    transaction,
                )
            )
        self._bht_seen = True
        if seg[1] != "0019":
            bad(
                "BHT01",
                f"BHT01 is {seg[1]!r}, must be '0019' (information source, subscriber, dependent)",
            )
        if seg[2] not in ("00", "18"):
            bad("BHT02", f"BHT02 is {seg[2]!r}, must be '00' (original) or '18' (reissue)")
        if not seg[3]:
            bad("BHT03", "BHT03 (originator application transaction id) is empty; it is required")
        if not is_date(seg[4], earliest=1):
            bad("BHT04", f"BHT04 is {seg[4]!r}, must be the creation date as CCYYMMDD")
        if not is_time(seg[5]):
            bad(
                "BHT05",
                f"BHT05 is {seg[5]!r}, must be the creation time as HHMM, HHMMSS, "
                "HHMMSSD or HHMMSSDD",
            )
        if seg[6] not in ("CH", "RP"):
            bad("BHT06", f"BHT06 is {seg[6]!r}, must be 'CH' (chargeable) or 'RP' (reporting)")
        # BHT has simple elements only: a component or repetition separator in it is data.
        named = data_delimiters(seg.delimiters)
        for position, value in enumerate(seg.elements[1:], 1):
            ref = f"BHT{position:02d}"
            for message in delimiters_in(ref, value, named):
                out.append(self._finding(ENV002, message, seg, ref, "HEADER", transaction))
        return out

    def end(self, at: Segment) -> list[Finding]:
        """The header ends at the first HL (or SE): BHT, 1000A and 1000B must all be there."""
        if not self.open:
            return []
        self.open = False
        out: list[Finding] = []
        transaction = self._transaction
        where = f"before {at.id} at segment {at.number}"
        if not self._bht_seen:
            out.append(
                self._finding(
                    ENV010,
                    f"transaction set {transaction or ''!r} has no BHT {where}; BHT must follow ST",
                    at,
                    None,
                    "HEADER",
                    transaction,
                )
            )
        if self._submitter is None:
            out.append(
                self._finding(
                    ENV011,
                    f"no 1000A submitter name (NM1*41) {where}; the header must name the submitter",
                    at,
                    None,
                    "1000A",
                    transaction,
                )
            )
        elif not self._submitter_per:
            out.append(
                self._finding(
                    ENV011,
                    "the 1000A submitter NM1*41 has no PER contact after it; the submitter's "
                    "EDI contact is required",
                    self._submitter,
                    None,
                    "1000A",
                    transaction,
                )
            )
        if not self._receiver:
            out.append(
                self._finding(
                    ENV011,
                    f"no 1000B receiver name (NM1*40) {where}; the header must name the receiver",
                    at,
                    None,
                    "1000B",
                    transaction,
                )
            )
        return out
