"""Claim-level rules: claim frequency, diagnoses, place of service and supervising providers.

This family owns the checks of catalogue §2 and the supervision rows of §6: CLM05 frequency
and REF*F8 (``FRQ``), the HI diagnosis qualifiers and the SV107 pointers into them (``DX``),
the place-of-service code set (``POS-003``), the 2310D/2420D supervising and 2310B/2420A
rendering provider loops and the check digit of every NPI (``SUP``). It also holds
:func:`is_valid_npi`, the NPI check digit test, and :func:`skips_void`, which keeps the coding
edits off void claims.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date

from edi837.findings import Finding, Severity
from edi837.refdata import ReferenceData
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Profile,
    Rule,
    delete_fix,
    replace_fix,
    suggestion,
)
from edi837.rules.needs import Need
from edi837.rules.pairing import pointed_diagnoses
from edi837.rules.settings import Settings
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, Loop, Provider, ServiceLine

ORIGINAL = "1"
REPLACEMENT = "7"
VOID = "8"
FREQUENCIES = {ORIGINAL: "original", REPLACEMENT: "replacement", VOID: "void/cancel"}

# ICD-10-CM replaced ICD-9-CM for services on and after this date (HIPAA code set rule).
ICD10_EFFECTIVE = date(2015, 10, 1)
ICD10_QUALIFIERS = {"ABK": True, "ABF": False}  # qualifier -> marks the principal diagnosis
ICD9_QUALIFIERS = {"BK": True, "BF": False}
MAX_DIAGNOSES = 12  # the 2300 HI segment holds at most 12 diagnoses


@functools.lru_cache(maxsize=4096)
def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is 10 digits whose last is the Luhn check digit over ``80840`` + the rest.

    The NPI check digit is computed as for an ISO 7812 card number with the health
    industry prefix 80840 in front, which is why the prefix takes part in the sum. A file
    names the same few billing and rendering NPIs on every claim, so answers are remembered.
    """
    if len(npi) != 10 or not npi.isdecimal():
        return False
    total = 0
    for index, char in enumerate(reversed("80840" + npi)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def skips_void(rule: Rule, claim: Claim) -> bool:
    """True when ``claim`` is a void (CLM05-3 = 8) and ``rule`` is a coding edit.

    A void repeats the original claim so that the payer can cancel it; the payer matches it by
    REF*F8 and runs its front-end (structure and identity) edits, not the coding edits (E/M
    modifiers, pairing, NCCI, MUE, vaccines, chemotherapy), which were settled on the original.
    A rule declares that it still applies to voids with the class attribute
    ``applies_to_void = True``; every other rule skips them.
    """
    return claim.frequency == VOID and not getattr(rule, "applies_to_void", False)


def _service_dates(claim: Claim) -> list[date]:
    return [d for d in (line.service_date for line in claim.lines) if d is not None]


def _hi_ref(position: int, component: int | None = None) -> str:
    ref = f"HI{position:02d}"
    return f"{ref}-{component}" if component else ref


def _pointer_ref(index: int) -> str:
    return f"SV107-{index}"


# The pointers as usually written, "1" to "12", with the diagnosis position they name.
_POINTERS = {str(position): position for position in range(1, MAX_DIAGNOSES + 1)}


class FRQ001(Rule):
    """CLM05-2 is ``B`` and CLM05-3 is 1 (original), 7 (replacement) or 8 (void).

    What it does:
        Checks the facility code qualifier and the claim frequency type code of CLM05.
        CLM05-2 must be ``B`` (a place-of-service code in CLM05-1). CLM05-3 must be ``1``,
        ``7`` or ``8``; the other NUBC frequency codes (interim bills 2-4, late charges 5,
        ``X``, ``Y``, ``G``, ``I`` ...) belong to institutional or payer-internal use and do not
        apply to a provider-to-plan professional claim.

    Why it matters:
        Both elements are required with these values in 005010X222A1; the clearinghouse or the
        payer's front end returns the claim on a 277CA before adjudication. The frequency code
        also decides whether the payer adds, replaces or cancels a claim, so a wrong one can
        double-pay or cancel a paid claim.

    Fix safety:
        No fix. Which frequency applies depends on the claim's history with the payer, which
        the file does not show, and the edit pass never changes CLM05-3 (see FRQ-002).

    Example:
        ``CLM*PCN1*162***11:B:0~`` and ``CLM*PCN1*162***11:A:1~`` are reported;
        ``CLM*PCN1*162***11:B:1~`` is correct.

    Sources:
        pyx12 837P map (CLM05 code lists); X12 RFI #1538; Medi-Cal bulletin 2022-04.
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE
    applies_to_void = True

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report a CLM05-2 other than B and a CLM05-3 outside 1, 7 and 8."""
        clm = claim.clm
        qualifier = claim.facility_qualifier
        if qualifier != "B":
            shown = f"is {qualifier!r}" if qualifier else "is empty"
            yield ctx.report(
                self,
                f"CLM05-2 {shown}; a professional claim carries B (place of service in CLM05-1).",
                clm,
                "CLM05-2",
            )
        frequency = claim.frequency
        if frequency not in FREQUENCIES:
            shown = f"{frequency!r} is not used on an 837P" if frequency else "is empty"
            yield ctx.report(
                self,
                f"CLM05-3 {shown}; send 1 (original), 7 (replacement) or 8 (void) as the "
                "claim's history with the payer requires.",
                clm,
                "CLM05-3",
            )


class FRQ002(Rule):
    """A replacement (CLM05-3=7) or void (8) carries REF*F8, the payer's claim control number.

    What it does:
        Reports a claim with CLM05-3 ``7`` or ``8`` that has no 2300 ``REF*F8`` (or an empty
        REF02). It also reports, as a warning, an original claim (CLM05-3 ``1``) that carries
        REF*F8: the guide says not to send it then, and its presence usually means a
        resubmission of an adjudicated claim went out as a new original.

    Why it matters:
        The payer finds the claim to replace or cancel by the claim control number it assigned
        (from the 835 CLP07 or the 277CA); without it the replacement or void is rejected.
        An original with REF*F8 is either rejected by strict receivers or, worse, adjudicated
        as a second claim for the same services (duplicate denial, CARC 18).

    Fix safety:
        No fix for a missing REF*F8: the payer's claim number cannot be known from the file.
        For an original with REF*F8 the fix is a suggestion in words (remove REF*F8, or set
        CLM05-3 to 7 or 8 yourself when this resubmits an adjudicated claim); it is never
        applied. The edit pass never changes CLM05-3 (catalogue FRQ-004): its corrected EDI
        corrects a claim before submission, so the frequency code stays as the user sent it,
        and a resubmission needs 7 or 8 plus REF*F8, which only the user can decide.

    Example:
        ``CLM*PCN1*162***11:B:7~`` with no ``REF*F8*...~`` in 2300 is reported.

    Sources:
        TR3 situational rule for 2300 REF*F8 as quoted in X12 RFI #1538 and #2110.
    """

    severity = Severity.REJECT
    severity_when = {Severity.WARNING: "when an original claim carries REF*F8"}
    fix = FixAvailability.DISPLAY
    applies_to_void = True

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report a replacement or void without REF*F8, and an original with one."""
        frequency = claim.frequency
        ref = claim.loop.first("REF", "F8")
        if frequency in (REPLACEMENT, VOID):
            kind = FREQUENCIES[frequency]
            if ref is None:
                yield ctx.report(
                    self,
                    f"CLM05-3 is {frequency} ({kind}) but 2300 has no REF*F8; add the payer's "
                    "claim control number of the original claim from its 835 or 277CA.",
                    claim.clm,
                    "CLM05-3",
                )
            elif not ref.element(2).strip():
                yield ctx.report(
                    self,
                    f"REF*F8 of this {kind} claim is empty; REF02 carries the payer's claim "
                    "control number of the original claim.",
                    ref,
                    "REF02",
                )
        elif frequency == ORIGINAL and ref is not None:
            yield ctx.report(
                self,
                "An original claim (CLM05-3=1) carries REF*F8; remove it, or if this "
                "resubmits an adjudicated claim set CLM05-3 to 7 or 8 yourself.",
                ref,
                "REF01",
                severity=Severity.WARNING,
                fix=suggestion(
                    "Remove REF*F8 from this original claim, or if it resubmits an "
                    "adjudicated claim, send it as a replacement (CLM05-3=7) or void (8)."
                ),
            )


class FRQ003(Rule):
    """A replacement or void repeats the original claim: its charges and its CLM01.

    What it does:
        For a replacement (CLM05-3=7) or void (8) it reports what one claim shows of a
        resubmission that does not repeat the original:

        - a total charge (CLM02) of zero or less: a void repeats the original lines and
          charges, and a replacement replaces the whole claim, so a zero or negative total
          is a credit-style reversal the payer does not process as intended;
        - REF*F8 equal to CLM01: F8 is the control number the payer assigned, while CLM01
          stays the provider's own patient control number of the original claim, so the
          two being the same usually means CLM01 was put where the payer's number belongs.

        Limits: a rule sees one claim at a time. Whether CLM01 equals the original claim's
        CLM01, whether the lines and charges match the original, and whether a claim with the
        same CLM01 was sent as a new original elsewhere in the file or in an earlier file are
        not visible here and are not checked.

    Why it matters:
        Payers match a void or replacement to the original by the claim control number and
        the patient control number; a void that does not mirror the original may be rejected
        or leave the original paid, and a replacement sent as a partial claim drops the lines
        it leaves out.

    Fix safety:
        No fix: the original claim's charges and numbers are not in the file.

    Example:
        ``CLM*PCN1*0***11:B:8~`` with ``REF*F8*PCN1~`` is reported twice (zero total, F8
        equal to CLM01).

    Sources:
        X12 RFI #1945 and #1799.
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE
    applies_to_void = True

    needs = Need.CORRECTION

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report a replacement or void whose charges or REF*F8 cannot repeat the original."""
        frequency = claim.frequency
        if frequency not in (REPLACEMENT, VOID):
            return
        kind = FREQUENCIES[frequency]
        total = claim.total_charge
        if total is not None and total <= 0:
            yield ctx.report(
                self,
                f"This {kind} claim has a total charge of {claim.clm.element(2)}; repeat the "
                "original claim's lines and charges.",
                claim.clm,
                "CLM02",
            )
        ref = claim.loop.first("REF", "F8")
        if ref is not None and claim.id and ref.element(2).strip() == claim.id:
            yield ctx.report(
                self,
                f"REF*F8 of this {kind} claim equals CLM01; F8 is the payer's claim control "
                "number from the 835 or 277CA, while CLM01 repeats your original claim's number.",
                ref,
                "REF02",
            )


class DX001(Rule):
    """HI01 is ``ABK``, later diagnoses ``ABF``; ICD-9 ``BK``/``BF`` are invalid from 2015-10-01.

    What it does:
        Reads the diagnosis codes of the 2300 HI segment in order. The first (principal)
        diagnosis carries qualifier ``ABK``, every later one ``ABF``. The ICD-9-CM qualifiers
        ``BK`` and ``BF`` are reported when any service line is dated 2015-10-01 or later
        (DTP*472); with no readable service date the ICD-9 test is skipped.

    Why it matters:
        ICD-10-CM is the only diagnosis code set HIPAA allows for services from 2015-10-01;
        a claim with ICD-9 qualifiers, or with a principal diagnosis under ABF, fails the
        front-end edits and is returned unprocessable.

    Fix safety:
        No fix. Changing a qualifier alone would relabel an ICD-9 code as ICD-10 (or change
        which diagnosis is principal); the codes themselves must be recoded by the coder.

    Example:
        ``HI*BK:4019~`` on a claim with ``DTP*472*D8*20250310~`` is reported;
        ``HI*ABK:I10*ABF:E119~`` is correct.

    Sources:
        pyx12 837P map (HI qualifiers ABK/BK, ABF/BF).
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE
    applies_to_void = True

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report ICD-9 qualifiers on ICD-10 dates and qualifiers out of their position."""
        # ``claim.diagnoses`` lists exactly the HI entries read below, in order: ABK first and
        # ABF after it (or no diagnosis at all) is the usual claim, with nothing to report.
        diagnoses = claim.diagnoses
        if not diagnoses or (
            diagnoses[0][0] == "ABK" and all(q == "ABF" for q, _ in diagnoses[1:])
        ):
            return
        dates = [d for d in _service_dates(claim) if d >= ICD10_EFFECTIVE]
        icd10_dos = max(dates) if dates else None
        principal_seen = False
        for hi in claim.loop.all("HI"):
            for position in range(1, len(hi.elements)):
                qualifier = hi.component(position, 1)
                if qualifier in ICD10_QUALIFIERS:
                    marks_principal = ICD10_QUALIFIERS[qualifier]
                elif qualifier in ICD9_QUALIFIERS:
                    marks_principal = ICD9_QUALIFIERS[qualifier]
                else:
                    continue  # another HI (condition codes, anesthesia procedures)
                is_principal = not principal_seen
                principal_seen = True
                wanted = "ABK" if is_principal else "ABF"
                ref = _hi_ref(position, 1)
                if qualifier in ICD9_QUALIFIERS and icd10_dos is not None:
                    yield ctx.report(
                        self,
                        f"{ref} qualifier {qualifier} marks an ICD-9-CM code, invalid for "
                        f"services on {icd10_dos.isoformat()}; code the diagnosis in "
                        f"ICD-10-CM under {wanted}.",
                        hi,
                        ref,
                    )
                elif marks_principal != is_principal:
                    role = "the principal diagnosis" if is_principal else "a secondary diagnosis"
                    yield ctx.report(
                        self,
                        f"{ref} is {qualifier} but holds {role}; the first diagnosis uses "
                        "ABK and every later one ABF.",
                        hi,
                        ref,
                    )


class DX002(Rule):
    """Each SV107 pointer is a position 1-12 of an HI diagnosis, used once per line.

    What it does:
        Checks the diagnosis code pointers of every SV1: SV107-1 is present; each pointer is
        a number from 1 to 12, not larger than the number of diagnoses in the 2300 HI
        segment, and not repeated on the same line. A pointer that holds a diagnosis code
        (``E119``) instead of its position is reported as such.

    Why it matters:
        The pointers tie each service to the diagnoses that justify it; a pointer to nothing
        or an ICD code in SV107 fails the front-end edit (the claim is returned), and payers
        cannot judge medical necessity without it.

    Fix safety:
        No fix: which diagnosis a service was for is a coding decision.

    Example:
        ``SV1*HC:96372*40*UN*1***E119~`` and ``SV1*HC:96372*40*UN*1***1:3~`` with one
        diagnosis in HI are reported; ``SV1*HC:96372*40*UN*1***1~`` is correct.

    Sources:
        pyx12 837P map (SV107 composite, N0 1-2, values 1-12).
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE
    applies_to_void = True

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report every SV107 pointer that does not name a diagnosis of the HI segment once."""
        count = len(claim.diagnoses)
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            pointers = line.pointers
            if len(pointers) == 1 and 0 < _POINTERS.get(pointers[0], 0) <= count:
                continue  # the usual line: one pointer at a diagnosis of HI
            if not pointers or not pointers[0]:
                yield ctx.report(
                    self,
                    f"SV107-1 of {line.code or 'this line'} is empty; point the line at the "
                    "position (1-12) of its diagnosis in HI.",
                    sv1,
                    "SV107-1",
                    line=line,
                )
            seen: set[int] = set()
            for index, pointer in enumerate(pointers, start=1):
                if not pointer:
                    continue
                value = _POINTERS.get(pointer)
                if value is not None and value <= count and value not in seen:
                    seen.add(value)  # a position of a diagnosis, first use on the line
                    continue
                message = self._problem(pointer, count, seen)
                if message:
                    ref = _pointer_ref(index)
                    yield ctx.report(self, f"{ref} {message}", sv1, ref, line=line)

    @staticmethod
    def _problem(pointer: str, count: int, seen: set[int]) -> str | None:
        if not pointer.isdecimal():
            if len(pointer) >= 3 and pointer[0].isalpha():
                return (
                    f"holds {pointer!r}, a diagnosis code; a pointer is the position "
                    "(1-12) of the diagnosis in HI."
                )
            return f"is {pointer!r}; a pointer is a number from 1 to 12."
        # Bounded before conversion: a pointer is at most two digits (SV107 is N0 1/2), and a
        # 4,301-digit value must be a finding, not an integer-conversion error.
        if len(pointer) > 2:
            shown = pointer if len(pointer) <= 8 else pointer[:8] + "..."
            return f"is {shown}; a pointer is a number from 1 to 12."
        value = int(pointer)
        if not 1 <= value <= MAX_DIAGNOSES:
            return f"is {pointer}; a pointer is a number from 1 to 12."
        if value > count:
            if count == 0:
                return f"points to diagnosis {value} but the claim has no HI diagnosis."
            have = f"only {count} diagnos{'is' if count == 1 else 'es'}"
            return f"points to diagnosis {value} but HI holds {have}."
        if value in seen:
            return f"repeats pointer {value}; point to each diagnosis once per line."
        seen.add(value)
        return None


class DX003(Rule):
    """The 96372 line and its paired drug line share at least one pointed-to diagnosis.

    What it does:
        For every 96372 line paired with a drug line, compares the diagnoses their SV107
        pointers resolve to. When both point at diagnoses and they have none in common, the
        pair is reported. Lines whose pointers resolve to nothing are left to DX-002. The
        pairing (:mod:`edi837.rules.pairing`) groups lines by encounter (patient, date and
        rendering NPI) and gives each drug to the administration code that can deliver it
        (the shipped ``administration_codes.csv`` and ``drug_delivery.csv``): a drug given by
        an IV push, infusion, chemotherapy or vaccine administration code on the same date
        is not 96372's drug and is not compared here. Between several administrations that
        could give a drug, the pointers decide first, then the drug class, then line order
        (INJ-007 reports what line order had to decide).

    Why it matters:
        The injection is medically necessary because of the drug it delivered, and the drug
        because of the condition it treats. When the two lines point at unrelated diagnoses,
        payers that edit diagnosis to procedure deny one of them as not supported
        (CARC 11, diagnosis inconsistent with the procedure).

    Fix safety:
        A suggestion in words only: which diagnosis supports the drug is a clinical and
        coding decision, so no pointer is ever changed.

    Example:
        ``HI*ABK:M5450*ABF:I10~`` with ``SV1*HC:96372*40*UN*1***2~`` and
        ``SV1*HC:J1885:JZ*12*UN*2***1~`` in one encounter is reported: the injection points
        at I10, the ketorolac at M5450.

    Sources:
        General medical-necessity practice (CO-11 risk).
    """

    severity = Severity.WARNING
    fix = FixAvailability.DISPLAY

    needs = Need.INJECTION | Need.DRUG

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report each 96372/drug-line pair whose pointers share no diagnosis."""
        if skips_void(self, claim):
            return
        for pair in ctx.pairing.pairs:
            injection = pair.injection
            pointers = injection.pointers
            # Lines with the same SV107 point at the same diagnoses: the usual pair.
            if all(drug.pointers == pointers for drug in pair.drugs):
                continue
            sv1 = injection.sv1
            injected_for = pointed_diagnoses(claim, injection)
            if sv1 is None or not injected_for:
                continue
            for drug in pair.drugs:
                if drug.pointers == pointers:
                    continue  # the same diagnoses as the injection's
                drug_for = pointed_diagnoses(claim, drug)
                if not drug_for or injected_for & drug_for:
                    continue
                yield ctx.report(
                    self,
                    f"96372 (line {injection.number}) points to {_codes(injected_for)} and "
                    f"its drug line {drug.code} (line {drug.number}) to {_codes(drug_for)}; "
                    "point both at the diagnosis the drug treats.",
                    sv1,
                    "SV107",
                    line=injection,
                    fix=suggestion(
                        f"Point the 96372 line and the {drug.code} line (SV107) at the "
                        "diagnosis that supports the drug."
                    ),
                )


def _codes(codes: set[str]) -> str:
    return ", ".join(sorted(codes))


def _pos_problem(ctx: CheckContext, pos: str) -> str | None:
    """Why ``pos`` is no place of service, or None when it is one (or not known either way)."""
    known = ctx.refdata.is_pos_code(pos)
    if known is False:
        return "is not in the CMS POS code set"
    if known is None and pos in ctx.refdata.shipped.pos_unassigned:
        return "is unassigned in the CMS POS code set"
    return None


class POS003(Rule):
    """CLM05-1 and SV105 are CMS place-of-service codes; SV105 is sent only when it differs.

    What it does:
        Reports a CLM05-1 or SV105 that is not a place-of-service code (reject): POS codes
        are two digits, so ``1`` or an institutional bill type such as ``131`` is invalid, and
        a two-digit number that the CMS POS code set lists as unassigned (00, 28-30, 35-40,
        43-48, 59, 63-64, 67-70, 73-80, 82-98 in the shipped snapshot) names no place. A
        two-digit code the snapshot lists neither as assigned nor as unassigned would be a
        later CMS change and is not reported. An empty CLM05-1 is left to the structure rules.

        Opt-in: only when POS-003 is selected by its full code (``--select POS-003``), it
        also reports an SV105 equal to CLM05-1 (warning): the line-level place of service is
        sent only when it differs from the claim's. The guide's own examples and many real
        files repeat it, and no payer rejects it, so neither ``check`` nor the default ``fix``
        touches it.

    Why it matters:
        An invalid or unassigned place of service fails the front-end edit (RARC M77, place
        of service missing or invalid); it also drives the facility or
        non-facility fee and the facility-setting edits on 96372 (POS-001). A redundant SV105
        changes nothing the payer reads; the situational rule says to send SV105 only when it
        differs, but some of the guide's own example claims repeat CLM05-1 there, so it is a
        warning about a clean-up, not a reject.

    Fix safety:
        Removing an SV105 equal to CLM05-1 is safe: the line's place of service falls back to
        CLM05-1, which is the same code, so nothing the payer reads changes. An unknown code
        has no fix: only the user knows where the service was given.

    Example:
        ``CLM*PCN1*162***11:B:1~`` with ``SV1*HC:96372*40*UN*1*11**1~`` becomes
        ``SV1*HC:96372*40*UN*1***1~``.

    Sources:
        Pub 100-04 Ch 26 §10.5 (POS definitions); CMS Place of Service Code Set page (the
        unassigned ranges); pyx12 POS list. The TR3 wording of the SV105 situational rule
        comes from secondary sources (VERIFY).

    Options:
        ``edi837 fix --select POS-003`` applies the SV105 removal; the default ``fix`` never
        does. A receiver that wants SV105 on every line
        can be served with ``ignore = ["POS-003"]`` (this also drops the code-set check) or a
        lower level in ``[severity]``.
    """

    severity = Severity.REJECT
    severity_when = {Severity.WARNING: "when SV105 repeats CLM05-1"}
    fix = FixAvailability.SAFE
    applies_to_void = True

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report unknown POS codes in CLM05-1 and SV105, and an SV105 equal to CLM05-1."""
        clm = claim.clm
        claim_pos = claim.place_of_service
        problem = _pos_problem(ctx, claim_pos) if claim_pos else None
        if problem:
            yield ctx.report(
                self,
                f"CLM05-1 place of service {claim_pos!r} {problem}; send the code of the place "
                "where the services were given.",
                clm,
                "CLM05-1",
            )
        for line in claim.lines:
            sv1 = line.sv1
            line_pos = line.place_of_service
            if sv1 is None or not line_pos:
                continue
            if line_pos == claim_pos:
                if not ctx.named(self.code):
                    continue  # opt-in: valid X12 that no payer rejects
                yield ctx.report(
                    self,
                    f"SV105 repeats the claim's place of service {line_pos}; send SV105 only "
                    "when the line's place of service differs from CLM05-1.",
                    sv1,
                    "SV105",
                    line=line,
                    severity=Severity.WARNING,
                    fix=replace_fix(
                        sv1, "SV105", "", f"Remove SV105 {line_pos}, which repeats CLM05-1"
                    ),
                )
            elif problem := _pos_problem(ctx, line_pos):
                yield ctx.report(
                    self,
                    f"SV105 place of service {line_pos!r} {problem}; send the code of the "
                    "place where this service was given.",
                    sv1,
                    "SV105",
                    line=line,
                )


def _supervisors(claim: Claim) -> Iterator[tuple[str, Provider, ServiceLine | None]]:
    if claim.supervising is not None:
        yield "2310D", claim.supervising, None
    for line in claim.lines:
        if line.supervising is not None:
            yield "2420D", line.supervising, line


class SUP001(Rule):
    """A supervising provider (2310D, 2420D) is a person named by NPI: NM1*DQ*1, NM108 XX.

    What it does:
        Checks the NM1 of the claim-level (2310D) and every line-level (2420D) supervising
        provider: NM101 ``DQ``, NM102 ``1`` (a person), NM108 ``XX`` and NM109 a valid NPI:
        10 digits whose last digit is the Luhn check digit computed over the prefix 80840
        and the first nine digits.

    Why it matters:
        Medicare and most payers identify the supervising practitioner only by NPI and match
        it against enrolment; a missing, legacy (MI, 0B) or mistyped identifier rejects the
        claim at the front end. The guide makes NM108/NM109 situational on the provider
        having an NPI, which every practitioner who may supervise a billed service has.

    Fix safety:
        No fix: the right NPI can only come from the practitioner's NPPES record.

    Example:
        ``NM1*DQ*1*SUPERVISOR*PAT****MI*1234567890~`` is reported (NM108);
        ``NM1*DQ*1*SUPERVISOR*PAT****XX*1234567893~`` is correct.

    Sources:
        pyx12 837P map (2310D/2420D NM1); CMS NPI check digit (Luhn formula with prefix 80840).
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE
    applies_to_void = True

    needs = Need.SUPERVISOR

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report every 2310D/2420D NM1 that is not a person identified by a valid NPI."""
        if claim.supervising is None and not any(
            line.supervising is not None for line in ctx.provider_lines
        ):
            return
        for loop_id, provider, line in _supervisors(claim):
            nm1 = provider.nm1
            if nm1 is None:
                continue
            yield from self._check_nm1(loop_id, nm1, line, ctx)

    def _check_nm1(
        self, loop_id: str, nm1: Segment, line: ServiceLine | None, ctx: CheckContext
    ) -> Iterator[Finding]:
        if nm1.element(1) != "DQ":
            yield ctx.report(
                self,
                f"{loop_id} NM101 is {nm1.element(1)!r}; a supervising provider is NM1*DQ.",
                nm1,
                "NM101",
                line=line,
            )
        if nm1.element(2) != "1":
            yield ctx.report(
                self,
                f"{loop_id} NM102 is {nm1.element(2)!r}; the supervising provider is a "
                "person, so NM102 is 1.",
                nm1,
                "NM102",
                line=line,
            )
        qualifier, npi = nm1.element(8), nm1.element(9)
        if qualifier != "XX":
            shown = f"is {qualifier!r}" if qualifier else "is empty"
            yield ctx.report(
                self,
                f"{loop_id} NM108 {shown}; identify the supervising provider by NPI "
                "(NM108 XX, the NPI in NM109).",
                nm1,
                "NM108",
                line=line,
            )
        # With another qualifier NM109 is a legacy id; the NM108 finding already asks for the NPI.
        if (qualifier == "XX" or (not qualifier and npi)) and not is_valid_npi(npi):
            shown = f"{npi!r} is not a valid NPI" if npi else "is empty"
            yield ctx.report(
                self,
                f"{loop_id} NM109 {shown} (10 digits with a check digit); send the "
                "supervising provider's NPI as listed in NPPES.",
                nm1,
                "NM109",
                line=line,
            )


def _signature(provider: Provider) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a provider loop says: NM1 elements 01-09 and the text of its other segments.

    Two loops with the same signature name the same provider with the same taxonomy and
    secondary identifiers, so the line-level one adds nothing to the claim-level one.
    """
    others = tuple(seg.text for seg in provider.loop.segments if seg.id != "NM1")
    return provider.identity, others


class SUP002(Rule):
    """A 2420D repeating 2310D (or a 2420A repeating 2310B) is not sent.

    What it does:
        Compares each line-level supervising provider (2420D) with the claim-level one
        (2310D), and each line-level rendering provider (2420A) with the claim-level one
        (2310B). When the line loop says exactly what the claim loop says (NM1 elements
        01-09 and every other segment of the loop, such as PRV and REF, identical), it is
        reported as redundant.

    Why it matters:
        The guide sends a line-level provider only when it differs from the claim-level one;
        a line without 2420D/2420A inherits 2310D/2310B. Redundant loops are rejected by some
        receivers and make the claim harder to read; they never add information.

    Fix safety:
        Deleting the line loop is safe: the line then inherits the claim-level loop, which
        is identical, so the provider the payer reads for the line does not change. A line
        loop that differs in anything (taxonomy, secondary id, name) is not reported.

    Example:
        A line with ``NM1*DQ*1*SUPERVISOR*PAT****XX*1234567893~`` under a claim with the same
        2310D loses that 2420D NM1.

    Sources:
        X12 RFI #345 (rendering pattern); Sunflower Health (2310B vs 2420A). The TR3 wording
        for 2420D comes from secondary sources (VERIFY).

    Options:
        ``edi837 fix`` removes the repeated loops. A receiver that wants the line-level
        providers repeated can be served with ``ignore = ["SUP-002"]``.
    """

    severity = Severity.WARNING
    fix = FixAvailability.SAFE
    applies_to_void = True

    needs = Need.LINE_PROVIDER

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report each 2420D/2420A loop identical to its 2310D/2310B loop."""
        if not ctx.provider_lines or (claim.supervising is None and claim.rendering is None):
            return  # no line-level provider, or no claim-level one to repeat
        pairs = (
            ("2420D", "2310D", "supervising", claim.supervising),
            ("2420A", "2310B", "rendering", claim.rendering),
        )
        for line in claim.lines:
            for line_loop, claim_loop, role, claim_provider in pairs:
                provider = line.supervising if line_loop == "2420D" else line.rendering
                if provider is None or claim_provider is None:
                    continue
                nm1 = provider.nm1
                if nm1 is None or _signature(provider) != _signature(claim_provider):
                    continue
                yield ctx.report(
                    self,
                    f"The {line_loop} {role} provider of line {line.number} repeats "
                    f"{claim_loop}; send {line_loop} only when the line's {role} provider "
                    "differs.",
                    nm1,
                    line=line,
                    fix=delete_fix(
                        provider.loop.segments,
                        f"Remove the {line_loop} loop that repeats {claim_loop}",
                    ),
                )


def rendering_person_npi(claim: Claim, line: ServiceLine) -> str:
    """The NPI of the person who rendered ``line``, or ``""`` when the claim does not name one.

    2420A, else 2310B, else the billing provider when it is a person (a solo practitioner);
    an organisation billing without 2310B names no rendering person. Rules that compare who
    rendered two lines (SUP-003, INJ-006) use this rather than the encounter key
    :meth:`~edi837.x837p.model.Claim.rendering_npi`, which falls back to the billing
    organisation's NPI.
    """
    for provider in (line.rendering, claim.rendering):
        if provider is not None and provider.npi:
            return provider.npi
    billing = claim.billing_provider
    nm1 = billing.nm1 if billing is not None else None
    if billing is not None and nm1 is not None and nm1.element(2) == "1":
        return billing.npi
    return ""


class SUP003(Rule):
    """Under Medicare, a supervised 96372 is billed under the supervising practitioner's NPI.

    What it does:
        Under the Medicare profile, for every 96372 line with a supervising provider (its
        2420D, else 2310D), compares the supervisor's NPI with the line's rendering
        practitioner (2420A, else 2310B, else a billing provider who is a person). When they
        differ, the line is reported. Claims without a supervising provider, lines whose
        rendering provider is an organisation, and the Medicaid and commercial profiles are
        not checked.

    Why it matters:
        An injection given by staff who cannot bill on their own (a nurse or medical
        assistant) is payable only incident to a practitioner's service, under direct
        supervision, and only the supervising practitioner may bill it (Pub 100-02 Ch 15
        §60; 42 CFR 410.26(b)(5)). A claim naming one supervisor and another rendering
        practitioner either bills incident-to services under the wrong NPI, which auditors
        recover as an overpayment, or reports a supervisor that does not apply.

    Fix safety:
        No fix: who supervised and who gave the injection is a fact of the visit.

    Example:
        A Medicare 96372 line with ``NM1*82*1*DOCTOR*ANN****XX*1999999919~`` in 2310B and
        ``NM1*DQ*1*SUPERVISOR*PAT****XX*1234567893~`` in 2310D is reported.

    Sources:
        Pub 100-02 Ch 15 §60; CPT 96372 note (direct supervision); accupoint (DQ in box 17 /
        2310D).

    Options:
        Whether a payer requires a supervising provider whenever staff give the injection
        cannot be read from the claim (it does not say who gave it), so this rule does not
        ask for 2310D/2420D where none is sent. It follows the claim's profile: map a
        Medicare Advantage or other payer that applies incident-to rules to ``medicare`` in
        ``[payers]``; turn it off with ``ignore = ["SUP-003"]`` or change its severity in
        ``[severity]``.
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    needs = Need.INJECTION

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Medicare only."""
        return profile is Profile.MEDICARE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report Medicare 96372 lines supervised by one NPI and rendered under another."""
        if ctx.profile is not Profile.MEDICARE or skips_void(self, claim):
            return
        for line in ctx.injections:
            supervisor = line.supervising or claim.supervising
            nm1 = supervisor.nm1 if supervisor is not None else None
            if supervisor is None or nm1 is None or not supervisor.npi:
                continue
            rendering = rendering_person_npi(claim, line)
            if not rendering or rendering == supervisor.npi:
                continue
            yield ctx.report(
                self,
                f"96372 on line {line.number} names supervising provider {supervisor.npi} but "
                f"renders under {rendering}; bill an incident-to injection under the "
                "supervisor's NPI, or drop the supervisor if the rendering practitioner gave it.",
                nm1,
                "NM109",
                line=line,
            )


# The loops whose NM1 may identify a provider by NPI (NM108 XX), with the role each names.
# The supervising providers (2310D, 2420D) are SUP-001's, which also checks their NM1 shape.
NPI_LOOPS = {
    "2010AA": "billing provider",
    "2010AB": "pay-to provider",
    "2310A": "referring provider",
    "2310B": "rendering provider",
    "2310C": "service facility",
    "2420A": "rendering provider",
    "2420B": "purchased service provider",
    "2420C": "service facility",
    "2420E": "ordering provider",
    "2420F": "referring provider",
}


def _npi_loops(claim: Claim) -> Iterator[tuple[Loop, ServiceLine | None]]:
    """Every provider loop of :data:`NPI_LOOPS` in the claim, with its service line if any."""
    if claim.billing is not None:
        for loop in claim.billing.loops:
            if loop.loop_id in NPI_LOOPS:
                yield loop, None
    for loop in claim.loops:
        if loop.loop_id in NPI_LOOPS:
            yield loop, None
    for line in claim.lines:
        for loop in line.loops:
            if loop.loop_id in NPI_LOOPS:
                yield loop, line


class SUP004(Rule):
    """Every NPI the claim carries has a valid check digit.

    What it does:
        Checks NM109 of every provider NM1 sent with NM108 ``XX`` (an NPI): the billing
        provider (2010AA), a pay-to provider (2010AB), the referring providers (2310A,
        2420F), the rendering provider (2310B, 2420A), the service facility (2310C, 2420C),
        the purchased service provider (2420B) and the ordering provider (2420E). An NPI is 10
        digits whose last digit is the Luhn check digit computed over the prefix 80840 and the
        first nine digits. The supervising providers (2310D, 2420D) are checked by SUP-001;
        an empty NM109 is left to the element checks. Catalogue: R-SUP-001 applied to every
        NPI (issue 16 §4); SUP-004 is the next free code of the family.

    Why it matters:
        Clearinghouses and payer front ends compute the NPI check digit before anything else
        and reject the claim (277CA, e.g. A7:562 "entity's National Provider Identifier");
        a transposed or mistyped digit nearly always breaks it. The edit applies to voids and
        replacements too: the payer must still find the provider.

    Fix safety:
        No fix: the right NPI can only come from the provider's NPPES record.

    Example:
        ``NM1*85*2*EXAMPLE FAMILY MEDICINE*****XX*1999999902~`` (check digit 1 expected) is
        reported; ``NM1*85*2*EXAMPLE FAMILY MEDICINE*****XX*1999999901~`` is correct.

    Sources:
        CMS "Requirements for NPI check digit" (Luhn formula with the prefix 80840, ISO 7812);
        pyx12 837P map (NM108 XX in the provider loops).
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE
    applies_to_void = True

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report every provider NM109 sent as an NPI whose check digit is wrong."""
        for loop, line in _npi_loops(claim):
            for nm1 in loop.segments:
                if nm1.id != "NM1":
                    continue
                found = nm1.elements
                # NM108 XX says NM109 is an NPI; an empty NM109 is the element checks' case.
                if len(found) < 10 or found[8] != "XX" or not found[9]:
                    continue
                npi = found[9]
                if is_valid_npi(npi):
                    continue
                role = NPI_LOOPS[loop.loop_id]
                problem = (
                    "is not 10 digits"
                    if len(npi) != 10 or not npi.isdecimal()
                    else "fails the NPI check digit (Luhn over 80840 and the first nine digits)"
                )
                yield ctx.report(
                    self,
                    f"{loop.loop_id} {role} NM109 {problem}; send the NPI as listed in NPPES.",
                    nm1,
                    "NM109",
                    line=line,
                )


RULES: list[type[Rule]] = [
    FRQ001,
    FRQ002,
    FRQ003,
    DX001,
    DX002,
    DX003,
    POS003,
    SUP001,
    SUP002,
    SUP003,
    SUP004,
]
