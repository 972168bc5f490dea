"""Rules of the injection family: the 96372 line, the E/M beside it, line modifiers and JW/JZ.

Catalogue §4-5. These rules read one claim at a time. "Same encounter" is the same claim (so the
same patient), the same DTP*472 date as sent, and the same rendering NPI
(:meth:`~edi837.x837p.model.Claim.rendering_npi`: 2420A, else 2310B, else 2010AA). The
injection-to-drug pairing is the shared one of :mod:`edi837.rules.pairing` (``ctx.pairing``).

Modifiers are SV101-3..6. A fix that changes modifiers writes each modifier position that
changes (``SV101-3`` .. ``SV101-6``, and ``SV101-7`` when a fifth modifier sat there) as its own
edit, so it composes with edits of other components (SV101-1, SV101-2) of the same segment. Two
modifier fixes on one line always share the last filled position, so the fixer applies one per
pass and the next pass re-checks the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from functools import lru_cache

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity
from edi837.refdata import normalize_hyphenated
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Profile,
    Rule,
    suggestion,
)
from edi837.rules.lines import INJECTION
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, ServiceLine

# Modifiers CMS accepts for a distinct procedural service (CR 8863): 59 and its X{EPSU} subsets.
DISTINCT = frozenset({"59", "XE", "XP", "XS", "XU"})
X_MODIFIERS = frozenset({"XE", "XP", "XS", "XU"})
# A repeated procedure on the same day is told apart from a duplicate by 59/X{EPSU} or 76.
REPEAT_OR_DISTINCT = DISTINCT | {"76"}
# X{EPSU} exist for dates of service from 2015-01-01 (CR 8863, Transmittal 1422).
X_MODIFIERS_FROM = date(2015, 1, 1)
# JZ required on Medicare Part B claims from 2023-07-01; claims edits return it from 2023-10-01.
JZ_REQUIRED_FROM = date(2023, 7, 1)
JZ_EDITS_FROM = date(2023, 10, 1)
# FQHC (50) and RHC (72) services are exempt from the JW/JZ requirement (catalogue R-JWZ-005).
JWZ_EXEMPT_POS = frozenset({"50", "72"})
MODIFIER_POSITIONS = (3, 4, 5, 6)
JW_JZ = frozenset({"JW", "JZ"})
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
# Every value _MODIFIER accepts but a trailing newline, for a set lookup instead of a match.
_MODIFIER_CODES = frozenset(
    a + b
    for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)
_CPT = re.compile(r"^\d{4}[0-9FMTU]$")


# --- small views over a line --------------------------------------------------------------


def _positions(line: ServiceLine) -> list[str]:
    """SV101-3..6 as sent (empty positions kept), from one split of the composite."""
    sv1 = line.sv1
    return sv1.components(1)[2:6] if sv1 is not None else []


def _is_modifier(value: str) -> bool:
    """A modifier code: two upper-case letters or digits."""
    return value in _MODIFIER_CODES or _MODIFIER.match(value) is not None


def _modifier_ref(line: ServiceLine, wanted: set[str] | frozenset[str]) -> str:
    """The element reference (``SV101-4``) of the first modifier of ``wanted`` on the line."""
    for position, value in zip(MODIFIER_POSITIONS, _positions(line), strict=False):
        if value in wanted:
            return f"SV101-{position}"
    return "SV101-2"


def _free_modifier_ref(line: ServiceLine) -> str:
    """Where a missing modifier would go: the first empty modifier position (else SV101-6)."""
    mods = _positions(line)
    for index, position in enumerate(MODIFIER_POSITIONS):
        if index >= len(mods) or not mods[index]:
            return f"SV101-{position}"
    return "SV101-6"


def _label(line: ServiceLine) -> str:
    """``96372 (line 2)`` for messages."""
    return f"{line.code} (line {line.number})" if line.number is not None else line.code


def _is_em(ctx: CheckContext, line: ServiceLine) -> bool:
    return bool(line.code) and bool(ctx.refdata.em_family(line.code))


def _in_range(code: str, low: int, high: int) -> bool:
    return code.isdecimal() and len(code) == 5 and low <= int(code) <= high


@lru_cache(maxsize=4096)
def _is_iv_or_chemo_admin(code: str) -> bool:
    """IV hydration/infusion/push 96360-96379 (not 96372) or chemotherapy admin 96401-96549."""
    if code == INJECTION:
        return False
    return _in_range(code, 96360, 96379) or _in_range(code, 96401, 96549)


# --- rewriting the SV101 composite --------------------------------------------------------


def _modifier_layout(sv1: Segment) -> tuple[list[str], list[str]]:
    """SV101's modifiers (positions 3-6, plus a fifth squeezed into 7) and what follows them.

    SV101-7 is the free-text description. When positions 3-6 are all filled and SV101-7 holds
    a two-character code, the sender has written a fifth modifier into the description slot,
    and it is counted as a modifier.
    """
    parts = sv1.components(1)
    mods = [parts[i] if i < len(parts) else "" for i in range(2, 6)]
    tail = parts[6:]
    if tail and all(mods) and _is_modifier(tail[0]):
        mods.append(tail[0])
        tail = tail[1:]
    while mods and not mods[-1]:
        mods.pop()
    return mods, tail


def _modifier_fix(
    line: ServiceLine, modifiers: list[str], tail: list[str], description: str, safe: bool
) -> Fix | None:
    """A fix that puts ``modifiers`` (at most four) in SV101-3.. and ``tail`` from SV101-7 on.

    One edit per component whose value changes; ``None`` when nothing would change. Emptied
    trailing positions disappear when the fixer writes the segment, and a description in
    SV101-7 keeps its position.
    """
    sv1 = line.sv1
    if sv1 is None or len(modifiers) > 4 or len(tail) > 1:
        return None  # SV101-8 is not used in the 837P; a layout reaching it is left to a person
    target = (modifiers + [""] * 4)[:4] + (tail[:1] or [""])
    edits = []
    for position, new in zip((*MODIFIER_POSITIONS, 7), target, strict=True):
        ref = f"SV101-{position}"
        old = sv1.value(ref)
        if new != old:
            edits.append(Edit(EditKind.REPLACE, sv1.number, ref, old, new))
    if not edits:
        return None
    applicability = Applicability.SAFE if safe else Applicability.UNSAFE
    return Fix(applicability, description, tuple(edits))


# --- 96372 line ---------------------------------------------------------------------------


class INJ001(Rule):
    """96372 is billed with SV101-1 ``HC``, SV103 ``UN`` and SV104 a whole number of at least 1.

    What it does:
        Checks every 96372 line: the procedure code qualifier SV101-1 is ``HC``, the unit basis
        SV103 is ``UN`` (never ``MJ`` minutes), and SV104 is a whole number of units, at least
        one. A missing, zero or negative count, or ``MJ``, is a reject; a fractional count
        (``1.5``) is a warning.

    Why it matters:
        96372 is reported once per separate subcutaneous or intramuscular injection, so its unit
        count is a count of injections. A line billed in minutes, or with no or negative units,
        fails the payer's front-end edits; half an injection is never right and is usually a
        units value copied from the drug line.

    Fix safety:
        No fix. ``MJ`` cannot be turned into ``UN`` (minutes are not injections), and the right
        count comes from the record.

    Example:
        ``SV1*HC:96372*35*MJ*15***1~`` is reported on SV103; ``SV1*HC:96372*35*UN*1***1~``
        passes.

    Sources:
        CPT Assistant May 2010 (report 96372 for each IM injection), quoted by AAPC Oncology
        Alert; pyx12 837P map (SV101-1, SV103 code lists).
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report the 96372 lines with a wrong qualifier, unit basis or unit count."""
        for line in ctx.injections:
            sv1 = line.sv1
            if sv1 is None:
                continue
            if line.qualifier != "HC":
                yield ctx.report(
                    self,
                    f"96372 is a CPT code and needs SV101-1 'HC', not '{line.qualifier}'.",
                    sv1,
                    "SV101-1",
                    line=line,
                )
            if line.unit_basis != "UN":
                found = f"'{line.unit_basis}'" if line.unit_basis else "nothing"
                yield ctx.report(
                    self,
                    f"96372 is counted in injections: SV103 must be 'UN', not {found}.",
                    sv1,
                    "SV103",
                    line=line,
                )
            units = line.units
            if units is None or units < 1:
                shown = f"'{line.units_text}'" if line.units_text else "missing"
                yield ctx.report(
                    self,
                    f"96372 units (SV104) are {shown}; bill one unit per separate injection.",
                    sv1,
                    "SV104",
                    line=line,
                )
            elif units != units.to_integral_value():
                yield ctx.report(
                    self,
                    f"96372 units (SV104 {line.units_text}) are not a whole number of injections; "
                    "bill one unit per separate injection.",
                    sv1,
                    "SV104",
                    line=line,
                    severity=Severity.WARNING,
                )


class INJ002(Rule):
    """A 96372 line has a drug line in the same encounter.

    What it does:
        Reports each 96372 line that the shared pairing could not match with a drug line (a
        J-, Q- or other drug code billed on its own 2400 with the same DTP*472 date). A warning
        by default; deny-risk for the payer profiles listed in ``drug_line_required``.

    Why it matters:
        96372 bills the administration only. Without a drug line the drug may have been a free
        sample, supplied by the patient, or simply left off the claim, which loses its payment.
        Medicare still pays the administration of a patient-supplied drug that would have been
        covered, but some Medicaid and commercial payers deny an administration billed without
        the drug.

    Fix safety:
        No fix. Whether a drug was bought, supplied or forgotten is only in the record.

    Example:
        A claim with ``SV1*HC:96372*35*UN*1***1~`` on 2025-03-14 and no J-code line on that date
        is reported on the 96372 line.

    Sources:
        CPT 96372 descriptor; Pub 100-02 Ch 15 §60.1 (administration payable whatever the
        drug's source), as quoted in a Noridian chemotherapy billing guide.

    Options:
        ``drug_line_required = ["medicaid"]`` makes the finding deny-risk for those profiles.
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report each 96372 line left without a drug line by the pairing."""
        unpaired = ctx.pairing.unpaired_injections
        if not unpaired:
            return
        required = ctx.profile in ctx.settings.drug_line_required
        severity = Severity.DENY_RISK if required else Severity.WARNING
        for line in unpaired:
            if line.drug is not None and line.drug.ndc:
                tail = (
                    f"; the NDC {line.drug.ndc} sits on the 96372 line itself, so bill the drug"
                    " on its own HCPCS line"
                )
            else:
                tail = "; add the drug line, or document a sample or patient-supplied drug"
            dos = line.service_date
            when = dos.isoformat() if dos is not None else "its date of service"
            yield ctx.report(
                self,
                f"96372 on {when} has no drug line in the same encounter{tail}.",
                line.sv1,
                "SV101-2",
                line=line,
                severity=severity,
            )


class INJ003(Rule):
    """More 96372 units than the single drug they administered can account for: a split dose.

    What it does:
        Reports a 96372 line with SV104 above 1 whose paired drug lines (ignoring JW waste
        lines) are all one HCPCS code billed in fewer units than the 96372 line. That is one
        drug given through more syringes or sites than it has billing units, the split-dose
        case. Several different drugs, or as many drug units as injections, are not reported.

    Why it matters:
        Whether one drug dose split across two syringes or sites is billed as one or two units
        of 96372 is payer policy; many payers pay one injection per drug. A claim billed the
        other way is cut back or denied as a duplicate. The same pattern also shows a second
        drug that is missing from the claim.

    Fix safety:
        No fix. The right count depends on the payer and on what the record shows.

    Example:
        ``SV1*HC:96372*70*UN*2***1~`` with ``SV1*HC:J3420*12*UN*1***1~`` (vitamin B12, one
        unit) on the same date is reported on the 96372 SV104.

    Sources:
        AAPC Oncology Alert on split doses; FCSO 2008 bulletin cited there.
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report 96372 lines whose units exceed the units of their single paired drug."""
        for pair in ctx.pairing.pairs:
            injection = pair.injection
            units = injection.units
            if units is None or units <= 1:
                continue
            administered = [d for d in pair.drugs if "JW" not in d.modifier_codes]
            codes = {d.code for d in administered}
            if len(codes) != 1:
                continue
            drug_units = [d.units for d in administered]
            if any(u is None for u in drug_units):
                continue
            total = sum(u for u in drug_units if u is not None)
            if total >= units:
                continue
            (code,) = codes
            yield ctx.report(
                self,
                f"96372 is billed {injection.units_text} times for one drug, {code}, billed in "
                f"{total} unit{'' if total == 1 else 's'}; if one dose was split across syringes "
                "or sites, bill 96372 as the payer's split-dose policy says, or add the missing "
                "drug line.",
                injection.sv1,
                "SV104",
                line=injection,
            )


class INJ004(Rule):
    """Several 96372 lines in one encounter need a distinguishing modifier or one line.

    What it does:
        Groups 96372 lines by encounter (same date, same rendering NPI). Every line after the
        first that carries none of 59, XE, XP, XS, XU or 76 is reported.

    Why it matters:
        Two identical 96372 lines on one date look like a duplicate submission and the second is
        denied (CARC 18). Separate injections are better billed as one line with the units
        summed, unless the payer wants separate lines, in which case 59/XS (separate site) or 76
        tells them apart. The units still count against the MUE for 96372.

    Fix safety:
        A suggestion only: merging lines renumbers LX and changes the line structure, and a
        modifier needs the record to support it.

    Example:
        ``SV1*HC:96372*35*UN*1***1~`` twice on 2025-03-14 for the same rendering NPI: the second
        line is reported; ``SV1*HC:96372*70*UN*2***1~`` once is not.

    Sources:
        CARC 18 practice; Cahaba on 59 versus 76; MUE line logic (catalogue R-MUE-001).
    """

    severity = Severity.WARNING
    fix = FixAvailability.DISPLAY

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report repeated 96372 lines of one encounter without 59/X{EPSU}/76."""
        injections = ctx.injections
        if len(injections) < 2:
            return
        for index, line in enumerate(injections):
            earlier = [i for i in injections[:index] if ctx.same_encounter(i, line)]
            if not earlier or line.modifier_codes & REPEAT_OR_DISTINCT:
                continue
            first = earlier[0]
            yield ctx.report(
                self,
                f"96372 is billed again on line {line.number} for the same date and provider "
                f"as line {first.number}; sum the units on one line, or add 59/XS or 76 if "
                "the payer wants separate lines.",
                line.sv1,
                "SV101-2",
                line=line,
                fix=suggestion(
                    f"Bill the injections as one 96372 line (line {first.number}) with SV104 "
                    "the number of injections, or, where the payer wants one line per "
                    "injection, add 59/XS (separate site) or 76 as the record supports."
                ),
            )


class INJ005(Rule):
    """96372 beside IV infusion/push or chemotherapy administration needs 59/X{EPSU}.

    What it does:
        Reports a 96372 line that shares its encounter (same date, same rendering NPI) with an
        IV hydration, infusion or push code (96360-96379 other than 96372) or a chemotherapy
        administration code (96401-96549), when the 96372 line carries none of 59, XE, XP, XS
        or XU.

    Why it matters:
        NCCI bundles 96372 into the IV and chemotherapy administration codes of the same
        encounter; without a bypass modifier the injection is denied as a component (CO-97 or
        CO-236, RARC M80). The modifier is right only when the injection went into a separate
        site or at a separate encounter, which the record must show. The NCCI tables themselves
        are checked by NCCI-001 when they are loaded; this rule needs no table.

    Fix safety:
        A suggestion only: 59 and X{EPSU} assert a distinct service and are never added
        automatically.

    Example:
        ``SV1*HC:96365*180*UN*1***1~`` and ``SV1*HC:96372*35*UN*1***1~`` on one date: the 96372
        line is reported; ``SV1*HC:96372:XS*35*UN*1***1~`` is not.

    Sources:
        CMS RAC issue 0071 (cites Pub 100-04 Ch 12 §30.5); NCCI PTP tables; NCCI Policy Manual
        Ch XI §B.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report 96372 lines without 59/X{EPSU} beside IV or chemotherapy administration."""
        administrations = [line for line in claim.lines if _is_iv_or_chemo_admin(line.code)]
        if not administrations:
            return
        for line in ctx.injections:
            if line.modifier_codes & DISTINCT:
                continue
            others = [a for a in administrations if ctx.same_encounter(a, line)]
            if not others:
                continue
            codes = ", ".join(sorted({a.code for a in others}))
            yield ctx.report(
                self,
                f"96372 is billed with {codes} in the same encounter and is bundled into it "
                "unless given at a separate site or encounter (59/XS/XE).",
                line.sv1,
                _free_modifier_ref(line),
                line=line,
                fix=suggestion(
                    f"If the record shows the injection at a separate site or encounter from "
                    f"{codes}, add XS (or XE, or 59) to the 96372 line; otherwise remove the "
                    "96372 line, which is included in the IV or chemotherapy administration."
                ),
            )


class INJ006(Rule):
    """The 96372 line and its drug line have the same rendering provider.

    What it does:
        For every 96372 line paired with drug lines, compares the rendering NPI of each line
        (2420A when present, else 2310B, else the billing provider 2010AA).

    Why it matters:
        Under incident-to rules the drug and its administration are supplies and services of
        the same practitioner's service; two rendering providers for one injection make the
        payer treat them as separate encounters, which breaks the pairing other edits rely on
        and can deny the drug or the administration.

    Fix safety:
        No fix. Which provider is right is a billing decision.

    Example:
        A 96372 line with ``NM1*82*1*EXAMPLEDOC*JORDAN****XX*1999999919~`` in 2420A and a drug
        line rendered under another NPI are reported on the drug line's NM109.

    Sources:
        Incident-to billing logic, Pub 100-02 Ch 15 §60.
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report drug lines whose rendering NPI differs from their 96372 line's."""
        for pair in ctx.pairing.pairs:
            injection = pair.injection
            injection_npi: str | None = None
            for drug in pair.drugs:
                if injection.rendering is None and drug.rendering is None:
                    continue  # both lines fall back to the same claim-level provider
                if injection_npi is None:
                    injection_npi = claim.rendering_npi(injection)
                drug_npi = claim.rendering_npi(drug)
                if not injection_npi or not drug_npi or drug_npi == injection_npi:
                    continue
                # Point at the line-level 2420A that makes the difference.
                at = drug if drug.rendering is not None else injection
                nm1 = at.rendering.nm1 if at.rendering is not None else None
                yield ctx.report(
                    self,
                    f"The drug line {_label(drug)} is rendered by NPI {drug_npi} but its 96372 "
                    f"(line {injection.number}) by NPI {injection_npi}; bill both under the "
                    "provider who gave the injection.",
                    nm1 if nm1 is not None else drug.sv1,
                    "NM109" if nm1 is not None else "SV101-2",
                    line=at,
                )


# --- the E/M beside the injection ---------------------------------------------------------


class EM001(Rule):
    """An E/M billed in the same encounter as 96372 carries modifier 25.

    What it does:
        Reports an E/M line (any code the reference data places in an E/M family, such as
        99202-99205 and 99212-99215) that shares its encounter (same date, same rendering NPI)
        with a 96372 line and carries no modifier 25. 99211 is left to EM-002, because Medicare
        does not pay it with an injection even with 25.

    Why it matters:
        An E/M on the day of an injection is paid separately only when it is a significant,
        separately identifiable service, which modifier 25 on the E/M line declares. Without it
        the E/M is bundled into the injection and denied (CO-97). A different diagnosis is not
        required.

    Fix safety:
        A suggestion only, never applied: 25 asserts a separately identifiable visit that the
        record must document.

    Example:
        ``SV1*HC:99213*125*UN*1***1:2~`` with a 96372 on the same date is reported;
        ``SV1*HC:99213:25*125*UN*1***1:2~`` is not.

    Sources:
        Pub 100-04 Ch 12 §30.6.7 as revised by the CMS transmittal of 2005-10-28 (CR 3631
        follow-up; MLN Matters reprinted by Empire); Noridian "E/M Services and Drug
        Administration Billing"; NCCI Policy Manual Ch XI.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report E/M lines without 25 in an encounter with a 96372 line."""
        injections = ctx.injections
        if not injections:
            return
        for line in ctx.em_lines:
            if line.code == "99211" or "25" in line.modifier_codes:
                continue
            injection = next((i for i in injections if ctx.same_encounter(i, line)), None)
            if injection is None:
                continue
            yield ctx.report(
                self,
                f"E/M {line.code} is billed with 96372 (line {injection.number}) in the same "
                "encounter without modifier 25, so it will be bundled into the injection.",
                line.sv1,
                _free_modifier_ref(line),
                line=line,
                fix=suggestion(
                    f"If the record documents a significant, separately identifiable E/M "
                    f"service, add modifier 25 to the {line.code} line; otherwise bill the "
                    "injection without the E/M."
                ),
            )


class EM002(Rule):
    """99211 and 96372 are not billed together in one encounter.

    What it does:
        Reports a 99211 line that shares its encounter (same date, same rendering NPI) with a
        96372 line, with or without modifier 25.

    Why it matters:
        Medicare does not pay 99211 with a drug-administration code: the 99211 line is denied
        (CO-97) and 96372 stays payable. CPT's own note points the other way for non-facility
        settings without direct physician supervision: report 99211 instead of 96372. Either code
        may be right, but both on one encounter is wrong.

    Fix safety:
        A suggestion only. For Medicare the suggestion is to drop the 99211 line; deleting a
        2400 loop renumbers LX and changes CLM02, so it is left to the biller. For other payers,
        which code to keep depends on who gave the injection and under what supervision.

    Example:
        ``SV1*HC:99211*25*UN*1***1~`` and ``SV1*HC:96372*35*UN*1***1~`` on one date: the 99211
        line is reported.

    Sources:
        CMS transmittal of 2005-10-28 on Pub 100-04 Ch 12 §30.6.7 (HHS guidance repository) and
        MLN Matters; CPT 96372 parenthetical as quoted by SuperCoder; Codapedia 2021.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report 99211 lines in an encounter with a 96372 line."""
        injections = ctx.injections
        if not injections:
            return
        for line in claim.lines:
            if line.code != "99211":
                continue
            injection = next((i for i in injections if ctx.same_encounter(i, line)), None)
            if injection is None:
                continue
            if ctx.profile is Profile.MEDICARE:
                message = (
                    f"Medicare does not pay 99211 with 96372 (line {injection.number}) in "
                    "the same encounter; the 99211 line will be denied."
                )
                advice = (
                    f"Remove the 99211 line and reduce CLM02 by its charge; 96372 (line "
                    f"{injection.number}) stays payable."
                )
            else:
                message = (
                    f"99211 and 96372 (line {injection.number}) are billed in the same "
                    "encounter; bill one of them."
                )
                advice = (
                    "Keep 96372 when the injection was given under direct supervision, or "
                    "99211 instead of 96372 where the payer follows CPT's note for "
                    "unsupervised nurse visits; remove the other line and correct CLM02."
                )
            yield ctx.report(self, message, line.sv1, "SV101-2", line=line, fix=suggestion(advice))


# --- modifiers ----------------------------------------------------------------------------


class MOD001(Rule):
    """Modifier 25 is not used on the 96372 line or a drug line.

    What it does:
        Reports modifier 25 in SV101-3..6 of a 96372 line or of a drug line.

    Why it matters:
        25 marks a significant, separately identifiable E/M service and belongs on the E/M line
        only. On the injection or the drug it makes the code and modifier inconsistent, and the
        line is denied (CO-4); the E/M that needed it is usually left without it (EM-001).

    Fix safety:
        Safe by default: the fix removes 25 from the line and closes the gap it leaves (the
        remaining modifiers move up, in order; empty positions are closed too). 25 has no
        meaning on these lines, so nothing billable is lost. The fix never moves 25 to the E/M
        line.

    Example:
        ``SV1*HC:96372:25*35*UN*1***1~`` becomes ``SV1*HC:96372*35*UN*1***1~``.

    Sources:
        CPT modifier 25 definition; AAP and AAPC guidance on modifier placement.

    Options:
        ``remove_25_safe = false`` makes the fix unsafe (applied only with ``--unsafe-fixes``).
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.SOMETIMES

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report 25 on 96372 or drug lines, with a fix that removes it."""
        for line in claim.lines:
            if "25" not in line.modifier_codes or line.sv1 is None:
                continue
            if line.code != INJECTION and not ctx.is_drug_line(line):
                continue
            mods, tail = _modifier_layout(line.sv1)
            kept = [m for m in mods if m and m != "25"]
            fix = _modifier_fix(
                line,
                kept,
                tail,
                f"Remove modifier 25 from {line.code}",
                ctx.settings.remove_25_safe,
            )
            kind = "the injection" if line.code == INJECTION else "a drug line"
            yield ctx.report(
                self,
                f"Modifier 25 on {line.code} ({kind}) is invalid: 25 belongs on the E/M line "
                "only; remove it here.",
                line.sv1,
                _modifier_ref(line, {"25"}),
                line=line,
                fix=fix,
            )


class MOD002(Rule):
    """59 and X{EPSU} are used alone, never on an E/M, and only where an NCCI edit needs them.

    What it does:
        Reports, on each line: 59 together with XE, XP, XS or XU; 59 or an X modifier on an E/M
        code; an X modifier on a date of service before 2015-01-01. When the NCCI PTP table is
        loaded it also reports 59/X{EPSU} on a line whose code forms no PTP pair with modifier
        indicator 1, active on the date, with any other code of the encounter (as a warning:
        the modifier bypasses nothing there).

    Why it matters:
        CMS introduced XE, XP, XS and XU as more specific subsets of 59 and wants one or the
        other, not both. E/M codes take 25 (or 57), never 59; a distinct-service modifier on an
        E/M is denied (CO-4). A 59 without an edit to bypass has no effect on payment but is a
        known audit target for modifier misuse.

    Fix safety:
        A suggestion only: which modifier the record supports cannot be decided from the claim.
        The modifiers are never added or removed automatically.

    Example:
        ``SV1*HC:96372:59:XS*35*UN*1***1~`` is reported on the second modifier; so is
        ``SV1*HC:99213:59*125*UN*1***1:2~``.

    Sources:
        CMS CR 8863 / Transmittal 1422 (X{EPSU}); AAPC summary; AAP Coding (X modifiers not on
        E/M); NCCI PTP tables (modifier indicator).

    Options:
        The PTP part runs only when the NCCI practitioner PTP table is loaded from the
        ``refdata`` folder; without it that part stays silent.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report misused 59/X{EPSU} modifiers line by line."""
        for line in claim.lines:
            mods = line.modifier_codes
            used = mods & DISTINCT
            if not used or line.sv1 is None:
                continue
            sv1 = line.sv1
            x_used = sorted(used & X_MODIFIERS)
            if "59" in used and x_used:
                yield ctx.report(
                    self,
                    f"{line.code} carries 59 and {'/'.join(x_used)} together; use only the more "
                    f"specific {x_used[0]}.",
                    sv1,
                    _second_of(line, {"59", *x_used}),
                    line=line,
                    fix=suggestion(
                        f"Keep {x_used[0]} (or 59 if the payer does not accept X modifiers) and "
                        "remove the other."
                    ),
                )
            if _is_em(ctx, line):
                yield ctx.report(
                    self,
                    f"{'/'.join(sorted(used))} on E/M {line.code} is invalid: an E/M on the day "
                    "of another service takes 25, not a distinct-service modifier.",
                    sv1,
                    _modifier_ref(line, used),
                    line=line,
                    fix=suggestion(
                        f"Remove {'/'.join(sorted(used))} from {line.code}; use 25 if the record "
                        "documents a separately identifiable E/M."
                    ),
                )
                continue
            dos = line.service_date
            if x_used and dos is not None and dos < X_MODIFIERS_FROM:
                yield ctx.report(
                    self,
                    f"{'/'.join(x_used)} did not exist before 2015-01-01 (date of service "
                    f"{dos.isoformat()}); use 59.",
                    sv1,
                    _modifier_ref(line, set(x_used)),
                    line=line,
                    fix=suggestion(f"Replace {'/'.join(x_used)} with 59."),
                )
                continue
            if dos is None or not _ptp_loaded(ctx):
                continue
            others = [
                o.code
                for o in ctx.encounter_of(line)
                if o is not line and o.code and o.code != line.code
            ]
            if any(_ptp_allows_bypass(ctx, line.code, code, dos) for code in others):
                continue
            yield ctx.report(
                self,
                f"{'/'.join(sorted(used))} on {line.code} bypasses no NCCI edit: no other code "
                "of this encounter forms a PTP pair with it that a modifier can bypass.",
                sv1,
                _modifier_ref(line, used),
                line=line,
                severity=Severity.WARNING,
                fix=suggestion(
                    f"Remove {'/'.join(sorted(used))} from {line.code} unless the payer's own "
                    "edits require it and the record documents a distinct service."
                ),
            )


def _second_of(line: ServiceLine, wanted: set[str]) -> str:
    """The reference of the second modifier of ``wanted`` on the line (the one that clashes)."""
    seen = 0
    for position, value in zip(MODIFIER_POSITIONS, _positions(line), strict=False):
        if value in wanted:
            seen += 1
            if seen == 2:
                return f"SV101-{position}"
    return _modifier_ref(line, wanted)


def _ptp_loaded(ctx: CheckContext) -> bool:
    """Whether the official NCCI practitioner PTP table was loaded."""
    return ctx.refdata.loaded("ncci-ptp")


def _ptp_allows_bypass(ctx: CheckContext, a: str, b: str, dos: date) -> bool:
    """A PTP edit between ``a`` and ``b``, either column order, that a modifier can bypass."""
    return any(
        edit is not None and edit.modifier == 1
        for edit in (ctx.refdata.ptp(a, b, dos), ctx.refdata.ptp(b, a, dos))
    )


class MOD003(Rule):
    """SV101 carries at most four modifiers, each two letters or digits, without gaps or repeats.

    What it does:
        Checks SV101-3..6: every modifier is two upper-case letters or digits; no modifier is
        repeated; no empty position comes before a filled one; and no fifth modifier has been
        pushed into SV101-7 (the description).

    Why it matters:
        The 837P has room for four modifiers; a gap, a repeat or a malformed value fails the
        front-end edits (the claim is returned unprocessable), and a fifth modifier in SV101-7
        turns into a description the payer reads as text.

    Fix safety:
        Safe for gaps and exact repeats: the modifier positions are rewritten with the same
        modifiers, in the same order, without empty positions or second copies (a description in
        SV101-7 stays there), which changes nothing the payer reads. A malformed modifier or a
        fifth distinct one has no fix: which one to keep, or what was meant, needs a person.

    Example:
        ``SV1*HC:J1885::JZ:JZ*8*UN*2***1~`` becomes ``SV1*HC:J1885:JZ*8*UN*2***1~``.

    Sources:
        pyx12 837P map (SV101 composite C003: four modifier positions).
    """

    severity = Severity.REJECT
    fix = FixAvailability.SOMETIMES

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report malformed, repeated, gapped or excess modifiers, fixing what is mechanical."""
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            # Fewer than four modifiers leave no fifth in SV101-7: the usual lines pass here.
            sent = line.modifiers
            count = len(sent)
            if count == 0 or (count == 1 and sent[0] in _MODIFIER_CODES):
                continue
            if (
                count < 4
                and all(value in _MODIFIER_CODES for value in sent)
                and len(set(sent)) == count
            ):
                continue
            mods, tail = _modifier_layout(sv1)
            if not mods:
                continue
            if (
                len(mods) <= 4
                and all(v and _is_modifier(v) for v in mods)
                and len(set(mods)) == len(mods)
            ):
                continue  # the usual case: nothing to report, no fix to build
            cleaned: list[str] = []
            for value in mods:
                if value and value not in cleaned:
                    cleaned.append(value)
            # None when nothing changes, or when more than four distinct modifiers remain.
            fix = _modifier_fix(
                line, cleaned, tail, "Close gaps and remove repeated modifiers", True
            )
            refs = [f"SV101-{p}" for p in (*MODIFIER_POSITIONS, 7)]
            for index, value in enumerate(mods):
                if value and not _is_modifier(value):
                    yield ctx.report(
                        self,
                        f"Modifier '{value}' on {line.code} is not a two-character modifier code.",
                        sv1,
                        refs[index],
                        line=line,
                    )
            gap = next((i for i, v in enumerate(mods) if not v and any(mods[i + 1 :])), None)
            if gap is not None:
                yield ctx.report(
                    self,
                    f"SV101 of {line.code} has an empty modifier position before a filled one; "
                    "close the gap.",
                    sv1,
                    refs[gap],
                    line=line,
                    fix=fix,
                )
            seen: set[str] = set()
            for index, value in enumerate(mods):
                if not value:
                    continue
                if value in seen:
                    yield ctx.report(
                        self,
                        f"Modifier {value} is repeated on {line.code}; send it once.",
                        sv1,
                        refs[index],
                        line=line,
                        fix=fix,
                    )
                seen.add(value)
            if len(mods) > 4:
                yield ctx.report(
                    self,
                    f"{line.code} carries more than four modifiers; the fifth ({mods[4]}) sits in "
                    "SV101-7, the description. Keep the four that matter for payment.",
                    sv1,
                    "SV101-7",
                    line=line,
                    fix=fix,
                )


# --- JW/JZ --------------------------------------------------------------------------------


def _ndc11(line: ServiceLine) -> str | None:
    """The line's NDC as 11 digits: as sent, or from an unambiguous hyphenated form."""
    if line.drug is None or not line.drug.ndc:
        return None
    return normalize_hyphenated(line.drug.ndc)


def _package_dose(ctx: CheckContext, line: ServiceLine) -> str | None:
    """``single`` or ``multi`` from the FDA package description of the line's NDC, if loaded."""
    ndc = _ndc11(line)
    if ndc is None:
        return None
    package = ctx.refdata.ndc_package(ndc)
    if package is None:
        return None
    if package.single_dose:
        return "single"
    text = package.description.upper()
    if "MULTI-DOSE" in text or "MULTIPLE-DOSE" in text:
        return "multi"
    return None


def _container(ctx: CheckContext, line: ServiceLine) -> str | None:
    """``single``, ``multi`` or ``None`` (unknown) for the drug of a line.

    The FDA package description of the billed NDC decides when the directory is loaded; else
    the shipped HCPCS table's flag, where ``mixed`` (products of both kinds) stays unknown.
    """
    from_package = _package_dose(ctx, line)
    if from_package is not None:
        return from_package
    drug = ctx.refdata.drug(line.code)
    if drug is None:
        return None
    return {"yes": "single", "no": "multi"}.get(drug.single_dose)


class JWZ001(Rule):
    """A single-dose drug carries JZ, or its discarded amount is billed on a separate JW line.

    What it does:
        For a drug line under a payer profile that requires JW/JZ (Medicare by default), with a
        date of service on or after 2023-07-01, and a drug from a single-dose container or
        single-use package, reports the line when it has neither JZ nor a JW line for the same
        HCPCS code and date on the claim. Single-dose is known from the FDA NDC Directory
        package description of the billed NDC (``SINGLE-DOSE``/``SINGLE-USE``) when the
        directory is loaded, else from the shipped HCPCS table (``single_dose = "yes"``); a code
        whose products come in both kinds (``mixed``) is reported only when the NDC's package
        says single-dose. A line that itself carries JW is the waste line, checked by JWZ-004.

        Exemptions (catalogue R-JWZ-005), where nothing is reported: multi-dose containers
        (package description ``MULTI-DOSE``, or the table's ``single_dose = "no"``); drugs
        whose container is unknown; services at an FQHC (POS 50) or RHC (POS 72). Drugs that
        are not separately payable (packaged into another service) are exempt too, but neither
        the claim nor the loaded reference data shows payment status, so such a line is still
        reported; ignore that finding, or the rule for that payer.

    Why it matters:
        Since 2023-07-01 Medicare Part B requires JZ (nothing discarded) or a JW line (the
        discarded units) for every separately payable drug from a single-dose container; from
        2023-10-01 its claims edits return lines with neither as unprocessable (reject). In the
        first quarter the line could be paid but was flagged (deny-risk).

    Fix safety:
        No fix. Whether any drug was discarded, and how much, is only in the record.

    Example:
        ``SV1*HC:J0897*1500*UN*60***1~`` (denosumab, single-dose syringe) on 2025-03-14 under
        Medicare is reported; ``SV1*HC:J0897:JZ*1500*UN*60***1~`` is not.

    Sources:
        CMS "Discarded Drugs" page (JW uniform since 2017-01-01; CY2023 PFS final rule 87 FR
        69710-69734; JZ from 2023-07-01; edits from 2023-10-01); Pub 100-04 Ch 17 §40 (guidance
        issued 2023-06-02); Noridian JF/JE; CGS. Exemptions: Noridian JF; CGS December 2023
        update.

    Options:
        ``jwz_profiles`` lists the profiles whose payers require JW/JZ (default
        ``["medicare"]``). Under Medicare the severity follows the CMS dates above; for another
        profile listed there it is a warning, since its requirement is payer policy (raise it
        with ``[severity]``).
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report single-dose drug lines without JZ or a JW line."""
        if ctx.profile not in ctx.settings.jwz_profiles:
            return
        for line in ctx.drug_lines:
            if not line.modifier_codes.isdisjoint(JW_JZ):
                continue
            dos = line.service_date
            if dos is None or dos < JZ_REQUIRED_FROM:
                continue
            if ctx.line_pos(line) in JWZ_EXEMPT_POS:
                continue
            if _has_waste_line(claim, line):
                continue
            if _container(ctx, line) != "single":
                continue
            if ctx.profile is not Profile.MEDICARE:
                severity = Severity.WARNING
            elif dos >= JZ_EDITS_FROM:
                severity = Severity.REJECT
            else:
                severity = Severity.DENY_RISK
            yield ctx.report(
                self,
                f"{line.code} comes from a single-dose container and needs JZ (nothing "
                "discarded) or a separate JW line for the discarded units.",
                line.sv1,
                _free_modifier_ref(line),
                line=line,
                severity=severity,
            )


def _has_waste_line(claim: Claim, line: ServiceLine) -> bool:
    """A JW line with the same HCPCS code and date as ``line``."""
    return any(
        other is not line
        and other.code == line.code
        and other.service_date_text == line.service_date_text
        and "JW" in other.modifier_codes
        for other in claim.lines
    )


class JWZ002(Rule):
    """JW and JZ are never on the same line.

    What it does:
        Reports a line that carries both JW (amount discarded) and JZ (nothing discarded).

    Why it matters:
        The two modifiers contradict each other; Medicare returns the line as unprocessable.
        The administered amount goes on a line with JZ or no modifier, the discarded amount on
        its own JW line.

    Fix safety:
        No fix: which of the two is true is only in the record.

    Example:
        ``SV1*HC:J1885:JW:JZ*8*UN*2***1~`` is reported on SV101-4.

    Sources:
        CMS JW/JZ FAQ as summarised by Noridian, Retinal Physician and QPro.
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report lines with both JW and JZ."""
        for line in claim.lines:
            if JW_JZ <= line.modifier_codes:
                yield ctx.report(
                    self,
                    f"{line.code} carries both JW and JZ; JZ says nothing was discarded, JW bills "
                    "what was. Keep the one the record supports.",
                    line.sv1,
                    _second_of(line, {"JW", "JZ"}),
                    line=line,
                )


class JWZ003(Rule):
    """JW and JZ sit on the drug line, not on 96372 or another procedure line.

    What it does:
        Reports JW or JZ on a line whose code is a CPT procedure (five digits, or four digits
        and a letter), such as 96372 or an E/M, and not a drug or vaccine product. Unknown
        HCPCS Level II codes are left alone, since they may be drugs missing from the shipped
        table.

    Why it matters:
        JW and JZ describe the drug amount from a single-dose container; on the administration
        or any other service they make code and modifier inconsistent (CO-4), and the drug line
        that needed JZ is usually left without it.

    Fix safety:
        A suggestion only: moving the modifier to the drug line is right only when the drug
        line is the one the modifier was meant for.

    Example:
        ``SV1*HC:96372:JZ*35*UN*1***1~`` is reported on SV101-3.

    Sources:
        CMS JW/JZ FAQ as summarised by Noridian, Retinal Physician and QPro.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report JW/JZ on procedure lines."""
        for line in claim.lines:
            found = line.modifier_codes & JW_JZ
            if not found or not _CPT.match(line.code) or ctx.is_drug_line(line):
                continue
            if ctx.refdata.is_vaccine_product(line.code):
                continue
            which = "/".join(sorted(found))
            drugs = ctx.pairing.drugs_for(line) if line.code == INJECTION else []
            target = (
                f"the drug line {_label(drugs[0])}"
                if len(drugs) == 1
                else "the drug line it describes"
            )
            yield ctx.report(
                self,
                f"{which} on {line.code} is invalid: JW/JZ belong on the drug line; move it to "
                f"{target}.",
                line.sv1,
                _modifier_ref(line, found),
                line=line,
                fix=suggestion(f"Remove {which} from {line.code} and put it on {target}."),
            )


class JWZ004(Rule):
    """A JW line bills the discarded units of a drug administered on another line of the claim.

    What it does:
        For each drug line with JW: reports it when no line of the claim administers the same
        HCPCS code on the same date (without JW); when it bills less than one unit (waste below
        one billing unit is already covered by rounding the administered dose up); when the
        administered line says JZ (nothing discarded); and when the drug comes from a
        multi-dose container (FDA package description, else the shipped HCPCS table), where
        discarded drug is not billable.

    Why it matters:
        JW pays for drug discarded from a single-dose container after the dose was given, so it
        is valid only beside the administered line of the same code. Overfill, waste below one
        unit and multi-dose waste are not payable; a JW line that contradicts JZ or stands alone
        is denied, and a pattern of it draws audits.

    Fix safety:
        No fix: the discarded amount is only in the record.

    Example:
        ``SV1*HC:J9035:JW*300*UN*4***1~`` with no J9035 line without JW on that date is reported.

    Sources:
        Noridian DME JZ page; Noridian JF "Drug Wastage - JW and JZ Modifiers".
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report JW lines without an administered line, below one unit, or contradicted."""
        for line in claim.lines:
            if "JW" not in line.modifier_codes or not line.code or line.sv1 is None:
                continue
            sv1 = line.sv1
            administered = [
                other
                for other in claim.lines
                if other is not line
                and other.code == line.code
                and other.service_date_text == line.service_date_text
                and "JW" not in other.modifier_codes
            ]
            if not administered:
                yield ctx.report(
                    self,
                    f"The JW line for {line.code} has no line administering {line.code} on the "
                    "same date; bill the administered dose on its own line beside the waste.",
                    sv1,
                    "SV101-2",
                    line=line,
                )
            for other in administered:
                if "JZ" in other.modifier_codes and other.sv1 is not None:
                    yield ctx.report(
                        self,
                        f"{line.code} (line {other.number}) says JZ, nothing discarded, but line "
                        f"{line.number} bills discarded units with JW; correct one of them.",
                        sv1,
                        _modifier_ref(line, {"JW"}),
                        line=line,
                    )
            units = line.units
            if units is not None and 0 < units < 1:
                yield ctx.report(
                    self,
                    f"The JW line for {line.code} bills {line.units_text} unit; waste below one "
                    "billing unit is not billed (the administered dose is rounded up instead).",
                    sv1,
                    "SV104",
                    line=line,
                )
            if ctx.is_drug_line(line) and _container(ctx, line) == "multi":
                yield ctx.report(
                    self,
                    f"{line.code} comes from a multi-dose container; discarded drug from it is not "
                    "billed with JW.",
                    sv1,
                    _modifier_ref(line, {"JW"}),
                    line=line,
                )


RULES: list[type[Rule]] = [
    INJ001,
    INJ002,
    INJ003,
    INJ004,
    INJ005,
    INJ006,
    EM001,
    EM002,
    MOD001,
    MOD002,
    MOD003,
    JWZ001,
    JWZ002,
    JWZ003,
    JWZ004,
]
