"""Code-set rules: is the procedure code of each line a code that may be billed on its date?

HIPAA names the code sets a claim may carry and the date each code is valid; a code outside
them is a front-end reject before any coding edit looks at it. This module owns:

- ``HCP-001``: a HCPCS Level II code is in the official CMS HCPCS file and active on the
  service date (silent when the file is not loaded);
- ``HCP-002``: a C-code, which CMS created for hospital outpatient claims, on a professional
  claim;
- ``EM-003``: an E/M code that CPT deleted before the service date (the shipped
  ``em_codes.csv`` keeps deleted codes with their last valid date).

``HCP`` is a new family (the catalogue has none for code-set validity); ``EM-003`` is the next
free code of the E/M family. Being code-set checks, not coding edits, they apply to voids too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from edi837.findings import Finding, Severity
from edi837.refdata import ReferenceData
from edi837.rules.base import CheckContext, FixAvailability, Profile, Rule
from edi837.rules.needs import Need
from edi837.rules.settings import Settings
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, ServiceLine

# HCPCS Level II codes: a letter A-V and four digits (CPT codes are five digits or four digits
# and a letter, and the CMS HCPCS file does not list them).
_LEVEL2 = re.compile(r"^[A-V][0-9]{4}$")
# C-codes: HCPCS Level II codes CMS created for the hospital outpatient prospective payment
# system (devices, drugs and new technology), e.g. C9399 unclassified drugs or biologicals.
_C_CODE = re.compile(r"^C[0-9]{4}$")
# Ambulatory surgical centers bill Medicare on the professional claim (POS 24) and use the
# C-codes the ASC payment system pays separately (device-intensive and drug C-codes).
ASC_POS = "24"
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
# The current codes of each E/M family that replaced its deleted codes (CPT 2021 office visit
# and 2023 E/M revisions), for the message.
_EM_REPLACEMENTS = {
    "office-outpatient": "99202-99205",
    "hospital-inpatient-observation": "99221-99223, 99231-99233 or 99238-99239",
    "consultation-office": "99242-99245 (or an office visit where the payer pays no consultations)",
    "consultation-inpatient": "99252-99255",
    "nursing-facility": "99307-99310",
    "home-residence": "99341-99350",
}


def _dated_lines(claim: Claim) -> Iterator[tuple[ServiceLine, Segment, date]]:
    """The service lines with a code and a readable DTP*472 date, with their SV1."""
    for line in claim.lines:
        sv1, dos = line.sv1, line.service_date
        if sv1 is not None and line.code and dos is not None:
            yield line, sv1, dos


def _quarter_end(as_of: str) -> date | None:
    """The last day of a ``2025-Q1`` period, or None for another form."""
    match = _QUARTER.match(as_of)
    if match is None:
        return None
    year, quarter = int(match.group(1)), int(match.group(2))
    return date(year, 3 * quarter, 30 if quarter in (2, 3) else 31)


def _hcpcs_period(refdata: ReferenceData) -> tuple[str, date | None]:
    """The period of the loaded HCPCS file as written and the last day it covers."""
    for info in refdata.tables:
        if info.name == "hcpcs":
            return info.as_of, _quarter_end(info.as_of)
    return "", None


class HCP001(Rule):
    """A HCPCS Level II code is valid and active on the service date.

    What it does:
        When the official CMS HCPCS Level II file is loaded (``--refdata``), checks the
        SV101-2 of every line that is a Level II code (a letter A-V and four digits) against
        it on the line's DTP*472 date: the code must be in the file, added on or before the
        date, and not terminated before it. CPT codes (Level I) are not in the file and are
        not checked. Without the file the rule stays silent (``edi837 check`` names the
        missing table). A code the file does not list, on a date after the quarter the file
        covers, may be newer than the file: that is a warning asking for the current file.
        Catalogue: no ID (issue 14 §7); HCP-001 opens the code-set family.

    Why it matters:
        HIPAA requires the code set valid on the date of service; a deleted, not yet
        effective or mistyped HCPCS code is rejected at the front end (277CA A7:454
        "procedure code for services rendered", CARC 181 "procedure code was invalid on the
        date of service"). CMS has given no grace period for discontinued HCPCS codes since
        the 2005 update.

    Fix safety:
        No fix: the replacement code depends on the product or service given (a deleted
        drug code is usually split into product-specific codes).

    Example:
        ``SV1*HC:J2505*4000*UN*1***1~`` dated 2025-03-14 is reported: pegfilgrastim J2505 was
        terminated on 2021-12-31 (J2506 replaced it); ``SV1*HC:J2506*...`` is correct.

    Sources:
        CMS HCPCS Quarterly Update (alpha-numeric HCPCS file: ADD DT, TERM DT, ACTION CD);
        45 CFR 162.1002 (HCPCS as the HIPAA code set, valid on the date of service).

    Options:
        Put the current ``HCPC*ANWEB*.txt`` of the CMS quarterly update in the folder given
        to ``--refdata`` (or ``refdata`` in ``edi837.toml``).
    """

    severity = Severity.REJECT
    severity_when = {
        Severity.WARNING: "when the code is missing from a file whose quarter ends before the "
        "service date (the code may be newer than the file)"
    }
    fix = FixAvailability.NONE
    applies_to_void = True

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Only with a HCPCS file loaded."""
        return refdata.hcpcs is not None

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report Level II codes the loaded HCPCS file does not have active on their date."""
        refdata = ctx.refdata
        if refdata.hcpcs is None:
            return
        period, period_end = _hcpcs_period(refdata)
        for line, sv1, dos in _dated_lines(claim):
            code = line.code
            if not _LEVEL2.match(code) or refdata.hcpcs_active(code, dos) is not False:
                continue
            record = refdata.hcpcs_code(code)
            severity: Severity | None = None
            if record is None:
                if period_end is not None and dos > period_end:
                    problem = (
                        f"is not in the loaded HCPCS file ({period}), which ends before the "
                        f"service date {dos.isoformat()}; load the file of that quarter"
                    )
                    severity = Severity.WARNING
                else:
                    problem = "is not a HCPCS Level II code; check the code for a typing error"
            elif record.added is not None and dos < record.added:
                problem = (
                    f"was added on {record.added.isoformat()}, after the service date "
                    f"{dos.isoformat()}; bill the code valid on that date"
                )
            else:
                ended = record.terminated.isoformat() if record.terminated else "?"
                problem = (
                    f"was terminated on {ended}, before the service date {dos.isoformat()}; "
                    "bill the code that replaced it"
                )
            yield ctx.report(
                self,
                f"HCPCS {code} on line {line.number} {problem}.",
                sv1,
                "SV101-2",
                line=line,
                severity=severity,
            )


class HCP002(Rule):
    """A hospital outpatient C-code is billed on a professional claim.

    What it does:
        Reports a line whose SV101-2 is a C-code (C followed by four digits, such as C9399
        unclassified drugs or biologicals, or a code the shipped NOC table marks
        ``hospital_only``) on the 837P, unless its place of service is 24 (ambulatory surgical
        center). Reject under the Medicare profile, warning under the others. Catalogue:
        R-NOC-001 notes C9399 as hospital-only; HCP-002 is the next free code of the code-set
        family (issue 16 §3).

    Why it matters:
        CMS created C-codes for the hospital outpatient prospective payment system; they are
        billed by hospitals on the institutional claim (and by ASCs, which bill on the
        professional claim, for the devices and drugs their payment system pays
        separately). Medicare rejects a C-code from a physician or other practitioner as an
        invalid code for the claim type; other payers' acceptance varies, so it is a warning
        there. A physician's unclassified drug is billed as J3490 (or J3590 for a biologic).

    Fix safety:
        No fix: the right code depends on what was given (J3490/J3590 with the drug described
        in SV101-7, or the product's own J-code).

    Example:
        ``SV1*HC:C9399*120*UN*1***1~`` on a Medicare office claim (POS 11) is a reject;
        the same line at POS 24 is not reported.

    Sources:
        CMS HCPCS Level II "C-codes" description (OPPS hospital outpatient use only); Medicare
        Claims Processing Manual Pub 100-04 Ch 4 §20 (C-codes for hospital OPPS claims) and
        Ch 14 §40 (ASC payment); shipped ``noc_drugs.csv`` (C9399 hospital only).
    """

    severity = Severity.WARNING
    severity_by_profile = {Profile.MEDICARE: Severity.REJECT}
    fix = FixAvailability.NONE
    applies_to_void = True

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report C-codes on lines not given in an ambulatory surgical center."""
        refdata = ctx.refdata
        for line in claim.lines:
            code = line.code
            if line.sv1 is None or not code:
                continue
            if not (_C_CODE.match(code) or refdata.noc_hospital_only(code)):
                continue
            if ctx.line_pos(line) == ASC_POS:
                continue
            alternative = (
                " bill an unclassified drug as J3490 (a biologic as J3590) with its name and "
                "dose in SV101-7"
                if refdata.is_noc(code)
                else " bill the physician's service with its CPT or HCPCS Level II code"
            )
            yield ctx.report(
                self,
                f"{code} on line {line.number} is a hospital outpatient C-code, not billed on a "
                f"professional claim outside an ambulatory surgical center;{alternative}.",
                line.sv1,
                "SV101-2",
                line=line,
            )


class EM003(Rule):
    """An E/M code deleted from CPT before the service date is not billed.

    What it does:
        Reports an E/M line whose code the shipped ``em_codes.csv`` lists with a
        ``valid_through`` date earlier than the line's DTP*472 date: 99201 after 2020-12-31
        (CPT 2021 office visit revision), the observation codes 99217-99226, the lowest
        consultation levels 99241 and 99251, 99318 and the domiciliary codes 99324-99337
        and 99343 after 2022-12-31 (CPT 2023 E/M revision). The table keeps them so that older
        dates of service still classify. Catalogue: no ID (issue 16 §5); EM-003 is the next
        free code of the E/M family.

    Why it matters:
        A deleted CPT code is not in the HIPAA code set for the date: the front end rejects
        the line (CARC 181, procedure code invalid on the date of service), and the visit
        goes unpaid until recoded.

    Fix safety:
        No fix: the level of the replacement code follows from the documentation.

    Example:
        ``SV1*HC:99201*75*UN*1***1~`` dated 2025-03-14 is reported (code the visit
        99202-99205); dated 2020-12-30 it is not.

    Sources:
        AMA CPT 2021 and 2023 E/M revisions as summarised in the CMS MLN booklet "Evaluation
        and Management Services Guide"; shipped ``em_codes.csv`` (``valid_through``).
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE
    applies_to_void = True

    needs = Need.EM

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report E/M lines dated after their code's last valid date."""
        shipped = ctx.refdata.shipped
        deleted = shipped.em_valid_through
        for line, sv1, dos in _dated_lines(claim):
            last = deleted.get(line.code)
            if last is None or dos.isoformat() <= last:
                continue
            family = shipped.em.get(line.code, "")
            instead = _EM_REPLACEMENTS.get(family, "a code of its family valid on that date")
            yield ctx.report(
                self,
                f"E/M {line.code} on line {line.number} was deleted from CPT after {last}, "
                f"before the service date {dos.isoformat()}; code the visit as {instead}.",
                sv1,
                "SV101-2",
                line=line,
            )


RULES: list[type[Rule]] = [HCP001, HCP002, EM003]
