"""Rules of the encounter family: NCCI edits, MUEs, facility POS, vaccines and chemotherapy.

Catalogue §6. These rules look at the lines of one encounter together rather than at one line:
"same encounter" is the same claim (so the same patient), the same DTP*472 date as sent and the
same rendering NPI (:meth:`~edi837.x837p.model.Claim.rendering_npi`: 2420A, else 2310B, else
2010AA). NCCI PTP edits and MUEs come from the official CMS files in the reference folder and
the rules stay silent when those files are not loaded; code families (vaccine products and
their administration codes, immune globulins, antineoplastic drugs, facility places of
service) come from the shipped tables of :mod:`edi837.refdata`. They are coding edits, so none
of them applies to a void claim (:func:`~edi837.rules.claim.skips_void`).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache

from edi837.findings import Applicability, Finding, Fix, Severity
from edi837.refdata import Mue, PtpEdit, ReferenceData
from edi837.rules.base import CheckContext, FixAvailability, Profile, Rule, replace_fix, suggestion
from edi837.rules.claim import skips_void
from edi837.rules.lines import TELEHEALTH_POS
from edi837.rules.needs import Need
from edi837.rules.pairing import INJECTION, pointed_diagnoses
from edi837.rules.settings import Settings
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, ServiceLine

# Modifiers that bypass an NCCI PTP edit with modifier indicator 1 (NCCI Policy Manual Ch I,
# "NCCI-associated modifiers"): anatomic (eyelids, digits, sides, coronary arteries),
# global surgery (24, 25, 57, 58, 78, 79), 27 (separate hospital outpatient encounter), 91
# (repeat lab test), and 59 with its X{EPSU} subsets.
NCCI_MODIFIERS = frozenset(
    {
        "E1", "E2", "E3", "E4",
        "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
        "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9",
        "LT", "RT", "LC", "LD", "RC", "LM", "RI",
        "24", "25", "27", "57", "58", "78", "79", "91",
        "59", "XE", "XS", "XP", "XU",
    }
)  # fmt: skip

# The injection and infusion administration codes CPT does not mean the physician/QHP to report
# in a facility setting (R-POS-001): hydration/infusion/push 96360-96379 (96372 among them),
# SC/IM chemotherapy 96401-96402, chemotherapy push/infusion 96409-96425 and pump refills
# 96521-96523.
FACILITY_SENSITIVE_RANGES = ((96360, 96379), (96401, 96402), (96409, 96425), (96521, 96523))

# The Medicare Part B preventive vaccines whose administration has its own code: influenza
# G0008, pneumococcal G0009, hepatitis B G0010 (Pub 100-04 Ch 18), and COVID-19 90480.
MEDICARE_VACCINE_KINDS = ("flu", "pneumococcal", "hepatitis B", "covid")
_KIND_NAMES = {
    "flu": "influenza",
    "pneumococcal": "pneumococcal",
    "hepatitis B": "hepatitis B",
    "covid": "COVID-19",
}
# The generic CPT administration code for one injected vaccine when no kind-specific code applies.
GENERIC_VACCINE_ADMIN = "90471"


# RSV monoclonal antibodies with their own administration codes (CPT 96380/96381, with or
# without counselling) since nirsevimab 90380/90381; palivizumab 90378 is given with 96372.
RSV_ANTIBODY_ADMIN = {"90380": "96380 or 96381", "90381": "96380 or 96381"}

_DOS_MAI = {2: "policy: no appeal", 3: "clinical: appealable with medical records"}


# --- small views over lines ---------------------------------------------------------------


def _label(line: ServiceLine) -> str:
    """``96372 (line 2)`` for messages."""
    return f"{line.code} (line {line.number})" if line.number is not None else line.code


def _date_text(line: ServiceLine) -> str:
    """The line's date of service for messages: ISO when it parses, else DTP03 as sent."""
    dos = line.service_date
    return dos.isoformat() if dos is not None else line.service_date_text


def _line_numbers(lines: list[ServiceLine]) -> str:
    return ", ".join(str(line.number) for line in lines if line.number is not None)


def _in_ranges(code: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    if len(code) != 5 or not code.isdecimal():
        return False
    number = int(code)
    return any(low <= number <= high for low, high in ranges)


@lru_cache(maxsize=4096)
def _facility_sensitive(code: str) -> bool:
    """An administration code of R-POS-001 (:data:`FACILITY_SENSITIVE_RANGES`)."""
    return _in_ranges(code, FACILITY_SENSITIVE_RANGES)


def _format_units(units: Decimal) -> str:
    return format(units.normalize(), "f")


def _sv101_with_code(sv1: Segment, code: str) -> str:
    """SV101 with its procedure code (component 2) replaced and every other component kept.

    The whole composite is rewritten in one edit, as the modifier fixes of the injection family
    do, so that two fixes on the same line never interleave within one pass.
    """
    parts = sv1.components(1)
    while len(parts) < 2:
        parts.append("")
    parts[1] = code
    return sv1.delimiters.component.join(parts)


# --- place of service ---------------------------------------------------------------------


def _pos_location(claim: Claim, line: ServiceLine) -> tuple[Segment, str]:
    """Where the line's place of service is written: SV105 when sent, else CLM05-1."""
    if line.place_of_service and line.sv1 is not None:
        return line.sv1, "SV105"
    return claim.clm, "CLM05-1"


def _facility_risk(ctx: CheckContext, pos: str) -> str | None:
    """``configured``, ``high`` or ``medium`` for a facility POS of R-POS-001; None otherwise.

    A configured ``facility_pos`` list replaces the shipped table. From the shipped table,
    ``high`` is 19/21/22/23 and ``medium`` the payer-configurable list; ``low`` codes (paid at
    the Medicare facility rate but outside R-POS-001, such as ambulances) are not reported.
    """
    if not pos:
        return None
    configured = ctx.facility_pos()
    if configured is not None:
        return "configured" if pos in configured else None
    risk = ctx.refdata.facility_pos_risk(pos)
    return risk if risk in ("high", "medium") else None


def _pos_text(ctx: CheckContext, pos: str) -> str:
    name = ctx.refdata.pos_name(pos)
    return f"POS {pos} ({name})" if name else f"POS {pos}"


# --- vaccines -----------------------------------------------------------------------------


def _medicare_admin_code(ctx: CheckContext, kind: str) -> str | None:
    """The kind-specific administration code (G0008/G0009/G0010, 90480) from the shipped table."""
    codes = ctx.refdata.vaccine_admin_codes(kind)
    return codes[0] if codes else None


def _admin_code_for(ctx: CheckContext, product: str) -> str:
    """The administration code a vaccine product is billed with under the claim's profile.

    Medicare uses G0008/G0009/G0010 for influenza, pneumococcal and hepatitis B vaccines; the
    COVID-19 administration code (90480) applies to every payer; otherwise 90471.
    """
    kind = ctx.refdata.vaccine_kind(product)
    if kind == "covid" or (kind in MEDICARE_VACCINE_KINDS and ctx.profile is Profile.MEDICARE):
        specific = _medicare_admin_code(ctx, kind)
        if specific:
            return specific
    return GENERIC_VACCINE_ADMIN


def is_immune_globulin(ctx: CheckContext, code: str) -> bool:
    """An immune globulin product: CPT 90281-90399 or a HCPCS code the shipped table lists.

    Immune globulins are billed under CPT 90281-90399 or under HCPCS J-codes (Rho(D) immune
    globulin J2788-J2792, IVIG and SCIG J1459-J1599, hepatitis B immune globulin J1571/J1573),
    and both kinds are given with 96372 or the IV codes, never with an immunization
    administration code (catalogue VAC-002).
    """
    return ctx.refdata.is_immune_globulin(code) or code in ctx.refdata.shipped.immune_globulins


def _drugs_besides_vaccines(ctx: CheckContext, injection: ServiceLine) -> list[ServiceLine]:
    """The paired drug lines of a 96372 that are not vaccine products (Q2034-Q2039 are)."""
    return [
        drug
        for drug in ctx.pairing.drugs_for(injection)
        if not ctx.refdata.is_vaccine_product(drug.code)
    ]


def is_neoplasm(diagnosis: str) -> bool:
    """True for an ICD-10-CM code of a malignant, in situ or uncertain neoplasm.

    That is C00-C96, D00-D09, D3A and D37-D49, as sent in HI (no dot). Benign neoplasms
    D10-D36 (uterine fibroids D25 among them) are not: a hormonal drug given for them is not
    antineoplastic therapy.
    """
    code = diagnosis.strip().upper()
    if len(code) < 3:
        return False
    if code[0] == "C":
        return True
    if code[0] != "D":
        return False
    category = code[1:3]
    if category == "3A":
        return True
    return category.isdecimal() and (int(category) <= 9 or 37 <= int(category) <= 49)


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- rules --------------------------------------------------------------------------------


class NCCI001(Rule):
    """Two lines of one encounter form an NCCI procedure-to-procedure (PTP) edit pair.

    What it does:
        Looks up every pair of lines in one encounter (same claim, same DTP*472 date, same
        rendering NPI) in the practitioner PTP table, in either column order, using the edit
        whose effective/deletion window contains the date of service. The column 2 line is
        reported when the edit's modifier indicator is 0 (no modifier bypasses it), or 1 and
        neither line carries an NCCI-associated modifier: 59, XE, XS, XP, XU, the anatomic
        modifiers (E1-E4, FA, F1-F9, TA, T1-T9, LT, RT, LC, LD, RC, LM, RI) or 24, 25, 27, 57,
        58, 78, 79, 91. Indicator 9 means the edit does not apply and is ignored.

        The pairs to expect around 96372 (catalogue NCCI-002) are data, not code: 96372 with
        IV hydration/infusion/push 96360-96379, chemotherapy administration 96401-96549,
        immunization administration 90460-90474 and G0008-G0010, office visits 99211-99215,
        allergen immunotherapy 95115/95117 and joint, trigger-point and other injection
        procedures. Whether each is an edit, in which column order and with which indicator is
        whatever the loaded quarter's table says; nothing about 96372 is built in.

    Why it matters:
        The payer pays the column 1 code and denies the column 2 code as bundled (CARC 97 or
        236, RARC M15/M80). A modifier lets it through only when the indicator is 1 and the
        documentation shows a distinct service (another site, session or encounter); using 59
        or X{EPSU} only to get paid is a classic audit finding.

    Fix safety:
        A suggestion in words only, never applied: whether the services were distinct is a
        clinical and documentation fact the claim does not carry. For indicator 0 the only
        remedy is to drop the column 2 line (or show it belongs to another encounter).

    Example:
        A 2022 claim with ``SV1*HC:0001A*...`` and ``SV1*HC:99211*...`` on the same date by
        the same NPI meets the PTP row ``0001A  99211  ...  1``: the 99211 line is reported
        unless either line carries, say, 25.

    Sources:
        CMS NCCI Procedure to Procedure (PTP) edits, practitioner (quarterly); Noridian JE NCCI
        page; Independence/AmeriHealth NCCI notice; CMS MLN "How to Use the Medicare NCCI
        Tools"; NCCI Policy Manual Ch XI §B (pairs around 96372, catalogue NCCI-002).

    Options:
        ``refdata``: the folder with the current ``ccipra-*.TXT`` practitioner PTP parts; the
        rule is silent when none is loaded. Medicaid NCCI PTP tables are published separately
        and differ from Medicare's; when checking Medicaid claims, supply the Medicaid file in
        the same layout in the reference folder and it is loaded and used the same way.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Only with the NCCI PTP table loaded."""
        return refdata.ptp_table is not None

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report the column 2 line of every PTP edit that applies within an encounter."""
        if ctx.refdata.ptp_table is None or skips_void(self, claim):
            return
        for lines in ctx.encounters:
            reported: set[tuple[int, str]] = set()
            for i, first in enumerate(lines):
                for second in lines[i + 1 :]:
                    found = self._applies(first, second, ctx)
                    if found is None:
                        continue
                    edit, column1, column2 = found
                    key = (id(column2), column1.code)
                    if key in reported:
                        continue
                    reported.add(key)
                    yield self._report(edit, column1, column2, ctx)

    @staticmethod
    def _applies(
        first: ServiceLine, second: ServiceLine, ctx: CheckContext
    ) -> tuple[PtpEdit, ServiceLine, ServiceLine] | None:
        """The edit between two lines that denies one of them, with (column 1, column 2)."""
        dos = first.service_date
        if dos is None or not first.code or not second.code or first.code == second.code:
            return None
        edit = ctx.refdata.ptp_pair(first.code, second.code, dos)
        if edit is None or edit.modifier not in (0, 1):
            return None
        if edit.modifier == 1 and (first.modifier_codes | second.modifier_codes) & NCCI_MODIFIERS:
            return None
        if edit.column2 == second.code:
            return edit, first, second
        return edit, second, first

    def _report(
        self, edit: PtpEdit, column1: ServiceLine, column2: ServiceLine, ctx: CheckContext
    ) -> Finding:
        date = _date_text(column2)
        if edit.modifier == 0:
            message = (
                f"NCCI PTP edit: {_label(column2)} is column 2 to {_label(column1)} on {date} "
                "and no modifier bypasses it (indicator 0); drop the column 2 line unless it "
                "belongs to another encounter."
            )
            advice = (
                f"Remove {_label(column2)}: the PTP edit with {column1.code} has modifier "
                "indicator 0, so no modifier lets it be paid on the same date by the same "
                "provider."
            )
        else:
            message = (
                f"NCCI PTP edit: {_label(column2)} is bundled into {_label(column1)} on {date} "
                "(indicator 1) and neither line has an NCCI-associated modifier; add one only "
                "when the documentation shows a distinct service."
            )
            advice = (
                f"If the documentation shows a separate site, session or encounter, append 59 "
                f"or the more specific XE/XS/XP/XU (or an anatomic modifier) to "
                f"{_label(column2)}; otherwise remove it, as {column1.code} includes it."
            )
        if edit.rationale:
            advice += f" PTP rationale: {edit.rationale}."
        return ctx.report(
            self, message, column2.sv1, "SV101-2", line=column2, fix=suggestion(advice)
        )


class MUE001(Rule):
    """Units of 96372 or of a drug code exceed the practitioner MUE.

    What it does:
        Compares SV104 of every 96372 line and every drug line with the code's practitioner
        Medically Unlikely Edit. With adjudication indicator (MAI) 1 the value limits each
        claim line; with MAI 2 or 3 it limits the date of service, so the units of all lines of
        the claim with that code and DTP*472 date are summed and the line on which the total
        passes the MUE is reported. An MUE of 0 is a real value: no unit is payable.

    Why it matters:
        Units above the MUE are denied (CARC 96 or 151 with RARC N362; some Medicaid programs
        use CARC 35): on an MAI 1 code the whole line, on MAI 2/3 codes the date's lines.
        MAI 1 lets clinically needed extra units go on another line with a modifier (76, 91,
        anatomic); MAI 2 is a policy limit with no appeal; MAI 3 is a clinical limit that can
        be appealed with medical records.

    Fix safety:
        No fix. The units given are a clinical fact; whether to split a line, appeal or correct
        a unit-conversion mistake (see DRG-001, CTP-003) needs the record.

    Example:
        With the MUE row ``J1885,8,3 Date of Service Edit: Clinical,...`` loaded, lines
        ``SV1*HC:J1885*24*UN*6~`` and ``SV1*HC:J1885*16*UN*4~`` on one date total 10 units and
        the second is reported.

    Sources:
        CMS NCCI Medically Unlikely Edits, practitioner services (quarterly: Jan, Apr, Jul,
        Oct); FCSO, NGS and Palmetto MUE articles.

    Options:
        ``refdata``: the folder with the current practitioner MUE CSV; the rule is silent when
        none is loaded. The 96372 value and MAI are never built in: they come from the loaded
        quarter's file. A code the file does not list (CMS leaves confidential MUEs out) is not
        checked. Medicaid MUEs are published separately and differ; supply that file in the
        same layout when checking Medicaid claims.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.NONE

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Only with the MUE table loaded."""
        return refdata.mue_table is not None

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report lines, or the date's running total, above the code's MUE value."""
        if ctx.refdata.mue_table is None or skips_void(self, claim):
            return
        by_date: dict[tuple[str, str], list[ServiceLine]] = {}
        limits: dict[str, Mue] = {}
        for line in claim.lines:
            if line.code != INJECTION and not ctx.is_drug_line(line):
                continue
            if line.units is None or line.sv1 is None:
                continue
            mue = ctx.refdata.mue(line.code)
            if mue is None:
                continue
            limits[line.code] = mue
            if mue.mai == 1:
                if line.units > mue.value:
                    yield self._line_edit(line, mue, ctx)
            else:
                by_date.setdefault((line.code, line.service_date_text), []).append(line)
        for (code, _date), lines in by_date.items():
            mue = limits[code]
            total = Decimal(0)
            for line in lines:
                assert line.units is not None
                total += line.units
                if total > mue.value:
                    # Located on the line whose units carry the date's total past the MUE.
                    yield self._date_edit(lines, line, mue, ctx)
                    break

    def _line_edit(self, line: ServiceLine, mue: Mue, ctx: CheckContext) -> Finding:
        assert line.units is not None
        return ctx.report(
            self,
            f"{_label(line)} bills {_format_units(line.units)} units, above the practitioner "
            f"MUE of {mue.value} per line (MAI 1); the line is denied unless the units are "
            "corrected or clinically needed extra units go on another line with a modifier.",
            line.sv1,
            "SV104",
            line=line,
        )

    def _date_edit(
        self, lines: list[ServiceLine], line: ServiceLine, mue: Mue, ctx: CheckContext
    ) -> Finding:
        total = _format_units(sum((other.units or Decimal(0) for other in lines), Decimal(0)))
        if len(lines) > 1:
            billed = f"{line.code} totals {total} units on lines {_line_numbers(lines)}"
        else:
            billed = f"{_label(line)} bills {total} units"
        return ctx.report(
            self,
            f"{billed} for {_date_text(line)}, above the practitioner MUE of {mue.value} per "
            f"date of service (MAI {mue.mai}, {_DOS_MAI.get(mue.mai, 'date of service edit')}); "
            "correct the units or expect the date's lines to be denied.",
            line.sv1,
            "SV104",
            line=line,
        )


class POS001(Rule):
    """96372 or another injection/infusion administration code is billed with a facility POS.

    What it does:
        Reports 96372, 96360-96379, 96401-96402, 96409-96425 and 96521-96523 when the line's
        place of service (SV105 when sent, else CLM05-1) is a facility. By default the shipped
        table decides: 19, 21, 22 and 23 (outpatient hospital, inpatient hospital, emergency
        room) are deny-risk; the payer-configurable facility list (24, 25, 26, 31, 32, 34, 51,
        52, 54, 61, 62, 65) is reported as a warning, because Medicare pays some of those
        (25, 32, 54, 62, 65) at the non-facility rate.

    Why it matters:
        CPT says these administration codes are not meant for the physician or other qualified
        health care professional in a facility setting: the facility bills the administration
        on its own claim, with its own staff and supplies. Payers deny the professional line
        (CARC 5, place of service inconsistent with the procedure), and a paid one is an
        overpayment at audit.

    Fix safety:
        No fix. Either the place of service is wrong (the injection was given in the office) or
        the line should not be on a professional claim; only the biller knows which.

    Example:
        ``CLM*PCN1*75***22:B:1~`` with ``SV1*HC:96372*40*UN*1***1~`` is reported on CLM05-1.

    Sources:
        Regence policy 109 (quotes CPT; lists facility POS); UHC "Injection and Infusion
        Services Policy, Professional"; Noridian A52953 (same CPT wording for chemotherapy
        codes); Pub 100-04 Ch 12 §20.4.2 (site-of-service differential).

    Options:
        ``facility_pos``: the payer's list of facility POS codes; when set, every POS in it is
        reported as deny-risk and the shipped table is not used.
    """

    severity = Severity.DENY_RISK
    severity_when = {Severity.WARNING: "for the payer-configurable facility places of service"}
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report administration lines whose place of service is a facility."""
        if skips_void(self, claim):
            return
        for line in claim.lines:
            if line.sv1 is None or not _facility_sensitive(line.code):
                continue
            pos = ctx.line_pos(line)
            risk = _facility_risk(ctx, pos)
            if risk is None:
                continue
            segment, element = _pos_location(claim, line)
            yield ctx.report(
                self,
                f"{_label(line)} is billed at {_pos_text(ctx, pos)}, a facility; the facility "
                "bills the administration there, so correct the place of service or drop the "
                "line from the professional claim.",
                segment,
                element,
                line=line,
                severity=Severity.WARNING if risk == "medium" else None,
            )


class POS004(Rule):
    """An injection or infusion is billed at a telehealth place of service (02, 10).

    What it does:
        Reports a 96372 line, or another hands-on drug administration line (hydration,
        infusion and push 96360-96379, SC/IM chemotherapy 96401-96402, chemotherapy push and
        infusion 96409-96425, pump refills 96521-96523), whose place of service (SV105 when
        sent, else CLM05-1) is 02 (telehealth provided other than in the patient's home) or
        10 (telehealth provided in the patient's home). Catalogue: no ID; POS-004 is the next
        free code of the place-of-service family (issue 16 §3).

    Why it matters:
        An injection is given in person: no drug administration code is on the Medicare
        telehealth services list, and POS 02/10 tell the payer the practitioner was not with
        the patient. The line is denied (CARC 5, place of service inconsistent with the
        procedure) and, paid, is an overpayment at audit. A telehealth visit billed with POS
        02/10 and an injection given in the office the same day is billed with SV105 on the
        injection line.

    Fix safety:
        No fix: only the biller knows where the patient received the injection (office 11,
        home 12 ...).

    Example:
        ``CLM*PCN1*40***10:B:1~`` with ``SV1*HC:96372*40*UN*1***1~`` is reported on CLM05-1;
        ``SV1*HC:96372*40*UN*1*11**1~`` under the same CLM is not.

    Sources:
        CMS List of Telehealth Services (no drug administration codes); CMS Place of Service
        Code Set (POS 02 and 10 definitions); CPT 96372 descriptor (a therapeutic injection).
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.NONE

    needs = Need.TELEHEALTH

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report administration lines whose place of service is a telehealth code."""
        if skips_void(self, claim):
            return
        for line in claim.lines:
            if line.sv1 is None or not _facility_sensitive(line.code):
                continue
            pos = ctx.line_pos(line)
            if pos not in TELEHEALTH_POS:
                continue
            segment, element = _pos_location(claim, line)
            yield ctx.report(
                self,
                f"{_label(line)} is billed at {_pos_text(ctx, pos)}; an injection is given in "
                "person, not by telehealth: send the place where the patient received it "
                "(SV105 on this line when the visit itself was telehealth).",
                segment,
                element,
                line=line,
            )


class POS002(Rule):
    """A drug J-code is billed on a professional claim with a facility POS.

    What it does:
        Reports a drug line whose SV101-2 is a J-code when its place of service (SV105 when
        sent, else CLM05-1) is a facility: 19, 21, 22, 23 and the payer-configurable facility
        list of the shipped table, or the configured ``facility_pos`` list.

    Why it matters:
        In a facility the facility usually buys and bills the drug; a physician's claim for it
        is denied (CARC 5) or, if paid, duplicates the facility's payment.

    Fix safety:
        No fix. Only the biller knows whether the physician supplied the drug or the place of
        service is wrong.

    Example:
        ``CLM*PCN1*75***22:B:1~`` with ``SV1*HC:J1885*12*UN*2***1~`` is reported on CLM05-1.

    Sources:
        UHC CMS-1500 Supply & HCPCS policy (summary on openpayer.com).

    Options:
        ``facility_pos``: the payer's list of facility POS codes; when set it replaces the
        shipped table.
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    needs = Need.DRUG

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report J-code drug lines whose place of service is a facility."""
        if skips_void(self, claim):
            return
        for line in ctx.drug_lines:
            if line.sv1 is None or not line.code.startswith("J"):
                continue
            pos = ctx.line_pos(line)
            if _facility_risk(ctx, pos) is None:
                continue
            segment, element = _pos_location(claim, line)
            yield ctx.report(
                self,
                f"Drug {_label(line)} is billed at {_pos_text(ctx, pos)}, a facility that "
                "usually supplies and bills the drug; check who bought it and the place of "
                "service.",
                segment,
                element,
                line=line,
            )


class VAC001(Rule):
    """96372 is billed with a vaccine product but no immunization administration code.

    What it does:
        Reports each 96372 line of an encounter that has a vaccine or toxoid product code
        (90476-90759, COVID-19 913xx, Medicare influenza Q2034-Q2039) and no immunization
        administration code (90460/90461, 90471-90474, G0008/G0009/G0010, 90480).

        Immune globulins (catalogue VAC-002): products 90281-90399 (e.g. 90371, 90375, 90384)
        and the immune globulin J-codes of the shipped table (Rho(D) immune globulin J2790,
        IVIG J1459-J1599 ...) are correctly administered with 96372 (or
        96365-96368/96374/96375), so a 96372 paired with an immune globulin line is not
        reported.

    Why it matters:
        A vaccine's administration has its own codes (90471 covers SC/IM vaccine injections);
        billing it as 96372 leaves the vaccine without an administration and the 96372 line is
        denied as the wrong code family (RARC N657, VERIFY) or bundled.

    Fix safety:
        A suggestion in words only, never applied: whether the 96372 administered the vaccine
        or another drug of the encounter needs the record. The suggestion names the code:
        G0008/G0009/G0010 for Medicare influenza, pneumococcal and hepatitis B vaccines, 90480
        for COVID-19 vaccines, 90471 otherwise (90460 through age 18 with counselling, 90473
        for intranasal or oral vaccines).

    Example:
        A commercial claim with ``SV1*HC:90715*...`` (Tdap) and ``SV1*HC:96372*...`` but no
        90471 reports the 96372 line and suggests 90471.

    Sources:
        CPT immunization-administration descriptors (90471 includes SC/IM injections); BCBS NC
        immunization guideline; AAFP (Medicare uses G0008-G0010); CPT guideline on immune
        globulins as reported by AAP Coding News (CPT 2010 changes).

    Options:
        The vaccine kinds and their administration codes are the shipped tables
        ``vaccine_products.csv`` and ``vaccine_admin.csv`` of ``edi837/refdata/tables``
        (COVID-19 90480 is marked VERIFY there); the immune globulins are
        ``immune_globulins.csv``.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    needs = Need.INJECTION | Need.VACCINE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report 96372 lines of encounters with a vaccine product and no administration code."""
        refdata = ctx.refdata
        if not ctx.injections or not ctx.vaccine_lines or skips_void(self, claim):
            return  # no encounter has both a 96372 and a vaccine product
        for lines in ctx.encounters:
            injections = [line for line in lines if line.code == INJECTION]
            if not injections or any(refdata.is_vaccine_admin(line.code) for line in lines):
                continue
            products = [line.code for line in lines if refdata.is_vaccine_product(line.code)]
            if not products:
                continue
            products = list(dict.fromkeys(products))
            admin = list(dict.fromkeys(_admin_code_for(ctx, code) for code in products))
            for injection in injections:
                if any(
                    is_immune_globulin(ctx, drug.code) for drug in ctx.pairing.drugs_for(injection)
                ):
                    continue  # VAC-002: 96372 is the right administration for an immune globulin
                yield ctx.report(
                    self,
                    f"{_label(injection)} is billed with vaccine {_join(products)} but the "
                    f"encounter has no immunization administration code; a vaccine's "
                    f"administration is billed as {_join(admin)}, not 96372.",
                    injection.sv1,
                    "SV101-2",
                    line=injection,
                    fix=suggestion(
                        f"If {_label(injection)} administered the vaccine, bill "
                        f"{_join(admin)} instead; otherwise add a {_join(admin)} line for "
                        "the vaccine."
                    ),
                )


class VAC003(Rule):
    """Medicare preventive vaccines are administered with G0008/G0009/G0010, not 90471 or 96372.

    What it does:
        Under the Medicare profile, for an encounter with an influenza, pneumococcal or
        hepatitis B vaccine product (or a COVID-19 vaccine) whose own administration code
        (G0008, G0009, G0010; 90480 for COVID-19) is absent, reports the lines that bill the
        administration with a generic immunization code (90460/90461, 90471-90474) or with a
        96372 that is not paired with a drug line. Other profiles are not checked: commercial
        and Medicaid plans use the CPT codes.

    Why it matters:
        Medicare Part B pays these vaccines' administration only under their own codes
        (G0008/G0009/G0010, 90480 for COVID-19); 90471 or 96372 beside such a vaccine is
        denied (CARC 4; RARC N657, VERIFY) and the administration goes unpaid.

    Fix safety:
        When the encounter has exactly one such line and exactly one preventive vaccine kind
        without its code, the unsafe fix replaces the line's SV101-2 with that G-code (or
        90480), keeping its modifiers, units and charge. It is unsafe because it changes the
        billed procedure code, which is what the payer prices: the charge was set for 90471
        and may need review, and the generic code may have administered a drug or vaccine the
        claim does not show, which only the record can say. Otherwise
        the suggestion is in words. When the encounter also has other vaccines, a generic code
        may belong to them, so the fix stays in words.

    Example:
        ``SV1*HC:90686*25*UN*1***1~`` with ``SV1*HC:90471*30*UN*1***1~`` on a Medicare claim
        becomes, with unsafe fixes, ``SV1*HC:90686*...`` with ``SV1*HC:G0008*30*UN*1***1~``.

    Sources:
        AAFP immunization coding page; BCBS NC Medicare Advantage guideline; Pub 100-04 Ch 18
        §10 (VERIFY section).

    Options:
        The vaccine kinds and the administration code of each kind come from the shipped
        tables ``vaccine_products.csv`` and ``vaccine_admin.csv`` of ``edi837/refdata/tables``;
        90480 for COVID-19 is marked VERIFY there.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.UNSAFE

    needs = Need.VACCINE

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Medicare only."""
        return profile is Profile.MEDICARE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report generic administration lines beside Medicare preventive vaccines."""
        if ctx.profile is not Profile.MEDICARE or skips_void(self, claim):
            return
        refdata = ctx.refdata
        if not any(
            refdata.vaccine_kind(line.code) in MEDICARE_VACCINE_KINDS for line in ctx.vaccine_lines
        ):
            return  # no Medicare preventive vaccine on the claim
        generic = set(refdata.vaccine_admin_codes("any"))
        for lines in ctx.encounters:
            codes = {line.code for line in lines}
            missing: dict[str, str] = {}  # kind -> its administration code
            products: dict[str, list[str]] = {}  # kind -> its product codes
            others = 0
            for line in lines:
                kind = refdata.vaccine_kind(line.code)
                if kind is None:
                    continue
                if kind not in MEDICARE_VACCINE_KINDS:
                    others += 1
                    continue
                admin = _medicare_admin_code(ctx, kind)
                if admin and admin not in codes:
                    missing.setdefault(kind, admin)
                    products.setdefault(kind, []).append(line.code)
            if not missing:
                continue
            wrong = [
                line
                for line in lines
                if line.code in generic
                or (line.code == INJECTION and not _drugs_besides_vaccines(ctx, line))
            ]
            if len(wrong) <= others:
                continue  # the generic codes may all administer the other vaccines
            wanted = list(dict.fromkeys(missing.values()))
            vaccines = _join(
                [
                    f"{_KIND_NAMES[kind]} vaccine {_join(list(dict.fromkeys(codes)))}"
                    for kind, codes in products.items()
                ]
            )
            single = len(wrong) == 1 and len(wanted) == 1 and others == 0
            for line in wrong:
                if len(wanted) == 1:
                    message = (
                        f"{vaccines[:1].upper()}{vaccines[1:]} has no {wanted[0]} in this "
                        f"encounter; Medicare pays its administration as {wanted[0]}, not as "
                        f"{line.code}."
                    )
                else:
                    message = (
                        f"{vaccines[:1].upper()}{vaccines[1:]} have no {_join(wanted)} in this "
                        f"encounter; Medicare pays their administration with those codes, not "
                        f"as {line.code}."
                    )
                yield ctx.report(
                    self,
                    message,
                    line.sv1,
                    "SV101-2",
                    line=line,
                    fix=self._fix(line, wanted, single),
                )

    @staticmethod
    def _fix(line: ServiceLine, wanted: list[str], single: bool) -> Fix:
        if single and line.sv1 is not None:
            new = _sv101_with_code(line.sv1, wanted[0])
            description = f"Replace {line.code} with {wanted[0]} on line {line.number}"
            return replace_fix(line.sv1, "SV101", new, description, Applicability.UNSAFE)
        if len(wanted) == 1:
            target = wanted[0]
        else:
            target = f"the code of the vaccine it administered ({' or '.join(wanted)})"
        return suggestion(
            f"Replace {line.code} on line {line.number} with {target} if it administered a "
            "Medicare preventive vaccine; keep it if it administered another vaccine or drug."
        )


class VAC004(Rule):
    """An immunization administration code is billed for an immune globulin.

    What it does:
        Reports each immunization administration line (90460/90461, 90471-90474, 90480,
        G0008-G0010) of an encounter that has an immune globulin product (CPT 90281-90399 or a
        J-code of the shipped immune globulin table, such as Rho(D) immune globulin J2790) and
        no vaccine or toxoid product: the administration code can only have been used for the
        immune globulin. Encounters with a vaccine product are not reported, since the
        administration code may belong to the vaccine. Catalogue: the converse of R-VAC-002;
        VAC-004 is the next free code of the family (issue 16 §3).

    Why it matters:
        Immunization administration codes are for vaccines and toxoids. Immune globulins,
        antitoxins and monoclonal antibodies are given with 96372 (SC/IM), the IV codes
        (96365-96368, 96374/96375) or, for the RSV monoclonal antibodies nirsevimab
        90380/90381, 96380/96381. Billed with 90471 or G0008-G0010 the administration is
        denied as inconsistent with the product (CARC 4/11) and goes unpaid.

    Fix safety:
        A suggestion in words only: the administration code depends on the route the record
        documents (SC/IM 96372, IV 96365/96374) and, for RSV antibodies, on counselling.

    Example:
        ``SV1*HC:J2790*130*UN*1***1~`` with ``SV1*HC:90471*25*UN*1***1~`` and no vaccine on
        the date reports the 90471 line and suggests 96372.

    Sources:
        CPT guideline on immune globulins (AAP Coding News, CPT 2010 changes: given with
        96372 or 96365-96368/96374/96375, not with immunization administration); CPT
        96380/96381 (RSV monoclonal antibody administration); CMS HCPCS Level II file
        (immune globulin J-codes).

    Options:
        The immune globulins are ``immune_globulins.csv`` and the administration codes
        ``vaccine_admin.csv`` of ``edi837/refdata/tables``.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    needs = Need.VACCINE_ADMIN

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report immunization administration lines of encounters with only immune globulins."""
        refdata = ctx.refdata
        if skips_void(self, claim):
            return
        if not any(refdata.is_vaccine_admin(line.code) for line in claim.lines):
            return
        for lines in ctx.encounters:
            if any(refdata.is_vaccine_product(line.code) for line in lines):
                continue  # the administration codes may belong to the vaccine
            globulins = [line.code for line in lines if is_immune_globulin(ctx, line.code)]
            if not globulins:
                continue
            globulins = list(dict.fromkeys(globulins))
            wanted = list(
                dict.fromkeys(RSV_ANTIBODY_ADMIN.get(code, "96372") for code in globulins)
            )
            for line in lines:
                if line.sv1 is None or not refdata.is_vaccine_admin(line.code):
                    continue
                yield ctx.report(
                    self,
                    f"{_label(line)} is an immunization administration code but the encounter "
                    f"has no vaccine, only immune globulin {_join(globulins)}; an immune "
                    f"globulin is administered as {_join(wanted)} (or an IV code), not "
                    f"{line.code}.",
                    line.sv1,
                    "SV101-2",
                    line=line,
                    fix=suggestion(
                        f"Bill the administration of {_join(globulins)} as {_join(wanted)} "
                        "(SC/IM) or with the IV push/infusion code the record documents, in "
                        f"place of {line.code}."
                    ),
                )


def _given_for_exposure(claim: Claim, line: ServiceLine) -> bool:
    """The line points at an injury (ICD-10-CM S00-T88) or a rabies exposure (Z20.3).

    Falls back to every diagnosis of the claim when the pointers resolve to none.
    """
    diagnoses = pointed_diagnoses(claim, line) or {code for _, code in claim.diagnoses}
    return any(code[:1] in ("S", "T") or code.startswith("Z203") for code in diagnoses)


class VAC005(Rule):
    """A Part D vaccine is billed to Medicare Part B.

    What it does:
        Under the Medicare profile, reports a vaccine product line whose vaccine Medicare
        Part B does not pay: Part B pays influenza, pneumococcal, hepatitis B (for patients
        at intermediate or high risk) and COVID-19 vaccines and their administration, and
        vaccines given directly for an injury or exposure (tetanus-containing vaccines after a
        wound, rabies vaccine after a bite); every other commercially available vaccine
        (zoster, Tdap and Td given as prevention, adult RSV, hepatitis A, HPV, MMR, varicella,
        meningococcal ...) is a Part D drug. A tetanus- or rabies-containing vaccine is not
        reported when its line points at an injury (ICD-10-CM S00-T88) or a rabies exposure
        (Z20.3). Catalogue: no ID; VAC-005 is the next free code of the family (issue 16 §3).

    Why it matters:
        A Part D vaccine billed on a Part B professional claim is denied, together with its
        administration (CARC 109, not covered by this payer: send it to the correct payer).
        The practice bills the patient's Part D plan instead (an out-of-network claim
        through a Part D billing portal, or the patient pays and is reimbursed), or the
        patient gets the vaccine at a pharmacy.

    Fix safety:
        No fix: the claim must go to another payer, or the vaccine was given for an injury
        the diagnoses do not show.

    Example:
        ``SV1*HC:90750*200*UN*1***1~`` (zoster, recombinant) with ``SV1*HC:90471*25*UN*1***1~``
        on a Medicare Part B claim reports the 90750 line; ``SV1*HC:90715*...`` (Tdap) pointing
        at ``S61411A`` (a hand laceration) is not reported.

    Sources:
        Medicare Benefit Policy Manual Pub 100-02 Ch 15 §50.4.4.2 (Part B immunizations:
        pneumococcal, influenza, hepatitis B, COVID-19, and vaccines directly related to an
        injury or exposure); SSA §1860D-2(e)(1) and 42 CFR 423.100 (vaccines as Part D drugs);
        CMS MLN booklet on Medicare Part D vaccines and their administration (Part D covers
        zoster, Tdap, RSV and the others not covered by Part B).

    Options:
        Which part pays each vaccine is the ``medicare_part`` column of
        ``vaccine_products.csv`` in ``edi837/refdata/tables``. Map a Medicare Advantage payer
        (which covers both parts) to another profile in ``[payers]``.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.NONE

    needs = Need.VACCINE

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Medicare only."""
        return profile is Profile.MEDICARE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report Medicare Part B vaccine lines whose vaccine is a Part D drug."""
        if ctx.profile is not Profile.MEDICARE or not ctx.vaccine_lines:
            return
        if skips_void(self, claim):
            return
        parts = ctx.refdata.shipped.vaccine_medicare_part
        for line in ctx.vaccine_lines:
            part = parts.get(line.code)
            if line.sv1 is None or part not in ("D", "B-exposure"):
                continue
            if part == "B-exposure":
                if _given_for_exposure(claim, line):
                    continue
                reason = (
                    "Part B pays a tetanus- or rabies-containing vaccine only when it is given "
                    "for an injury or an exposure, and this line points at neither"
                )
            else:
                reason = (
                    "Part B pays only influenza, pneumococcal, hepatitis B and COVID-19 "
                    "vaccines (and vaccines given for an injury or exposure)"
                )
            yield ctx.report(
                self,
                f"Vaccine {_label(line)} is a Medicare Part D vaccine: {reason}. Bill it and "
                "its administration to the patient's Part D plan, not to Part B.",
                line.sv1,
                "SV101-2",
                line=line,
            )


class CHM001(Rule):
    """96372 administers an antineoplastic drug: consider 96401 or 96402.

    What it does:
        Reports a 96372 line paired with an antineoplastic drug line. Pairing is by encounter
        (patient, date and rendering NPI) and by administration code
        (:mod:`edi837.rules.pairing`, driven by the shipped ``administration_codes.csv`` and
        ``drug_delivery.csv``): an antineoplastic given by an IV infusion or push, or by
        96401/96402, on the same date belongs to that code, not to the 96372, so an IV
        chemotherapy infusion beside an IM B12 shot is not reported; and an antineoplastic
        that is only given intravenously is never 96372's drug, so 96401/96402 is not
        suggested for it. The drug lines concerned are J9000-J9999 or a code the shipped
        antineoplastic table lists (hormonal agents outside J9xxx such as triptorelin J3315
        and leuprolide J1952, the rituximab, bevacizumab and trastuzumab biosimilar Q-codes).
        For SC/IM administration CPT has 96401 (non-hormonal antineoplastic) and 96402
        (hormonal antineoplastic, e.g. leuprolide J9217, goserelin J9202, fulvestrant J9395,
        degarelix J9155).

        Hormonal drugs that treat cancer and other conditions (leuprolide J1950, lanreotide
        J1930, octreotide depot J2353; ``hormonal-if-neoplasm`` in the table) are reported
        only when the drug line points at a neoplasm diagnosis (ICD-10-CM C00-C96, D00-D09,
        D3A, D37-D49): J1950 for endometriosis or fibroids stays 96372. Not reported either:
        anti-emetic or anti-anemia drugs given to cancer patients, which are not chemotherapy
        administration. J9 codes that are not antineoplastic therapy (mesna J9209, the
        Elliotts' B diluent J9175, histrelin J9226 for central precocious puberty) are not
        reported either.

    Why it matters:
        Chemotherapy administration codes also cover monoclonal antibodies and biologic
        response modifiers and pay differently from 96372; payers may recode or deny the
        mismatch. Since a Jan 2, 2025 CMS update to Pub 100-04 Ch 12 §30.5, Medicare may weigh
        the complexity of the administration, not the drug name alone, so this stays advisory.

    Fix safety:
        A suggestion in words only, never applied: the right code depends on the drug's
        indication and the complexity of the administration, which need the record.

    Example:
        ``SV1*HC:96372*40*UN*1***1~`` with ``SV1*HC:J9217*900*UN*1***1~`` in one encounter
        is reported, suggesting 96402.

    Sources:
        Noridian A52953 Chemotherapy Administration; Noridian JF chemotherapy page (2025
        update); Vitalware on J1950 vs J9217; CR 3818/3631 excerpt (anti-emetics and
        anti-anemia drugs).

    Options:
        The antineoplastic drugs and their hormonal/non-hormonal kind are the shipped table
        ``antineoplastic.csv`` of ``edi837/refdata/tables``.
    """

    severity = Severity.WARNING
    fix = FixAvailability.DISPLAY

    needs = Need.INJECTION | Need.ANTINEOPLASTIC

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report 96372 lines paired with an antineoplastic drug line."""
        if skips_void(self, claim):
            return
        conditional = ctx.refdata.shipped.antineoplastic
        for pair in ctx.pairing.pairs:
            drugs: dict[str, list[str]] = {}
            for drug in pair.drugs:
                kind = ctx.refdata.antineoplastic(drug.code)
                if (
                    kind is None
                    and conditional.get(drug.code) == "hormonal-if-neoplasm"
                    and any(is_neoplasm(dx) for dx in pointed_diagnoses(claim, drug))
                ):
                    kind = "hormonal"
                if kind is not None:
                    drugs.setdefault(kind, []).append(drug.code)
            if not drugs:
                continue
            codes = [
                f"96402 for hormonal {_join(drugs['hormonal'])}" if "hormonal" in drugs else "",
                f"96401 for non-hormonal {_join(drugs['non-hormonal'])}"
                if "non-hormonal" in drugs
                else "",
            ]
            advice = _join([c for c in codes if c])
            named = _join([code for group in drugs.values() for code in group])
            injection = pair.injection
            yield ctx.report(
                self,
                f"{_label(injection)} administers antineoplastic {named}; SC/IM chemotherapy "
                f"administration is coded {advice} rather than 96372.",
                injection.sv1,
                "SV101-2",
                line=injection,
                fix=suggestion(
                    f"Consider {advice} in place of 96372 when the drug is given as "
                    "antineoplastic therapy; keep 96372 for non-oncologic use."
                ),
            )


RULES: list[type[Rule]] = [
    NCCI001,
    MUE001,
    POS001,
    POS002,
    POS004,
    VAC001,
    VAC003,
    VAC004,
    VAC005,
    CHM001,
]
