"""INJ rules: the 96372 line itself, its drug line, its units and its neighbours."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from edi837.findings import Finding, Severity
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
    suggestion,
)
from edi837.rules.claim import rendering_person_npi
from edi837.rules.injection.common import DISTINCT, free_modifier_ref, line_label
from edi837.rules.lines import INJECTION
from edi837.rules.needs import Need
from edi837.x837p.model import Claim, ServiceLine


def _in_range(code: str, low: int, high: int) -> bool:
    return code.isdecimal() and len(code) == 5 and low <= int(code) <= high


# A repeated procedure on the same day is told apart from a duplicate by 59/X{EPSU} or 76.
REPEAT_OR_DISTINCT = DISTINCT | {"76"}


@lru_cache(maxsize=4096)
def _is_iv_or_chemo_admin(code: str) -> bool:
    """IV hydration/infusion/push 96360-96379 (not 96372) or chemotherapy admin 96401-96549."""
    if code == INJECTION:
        return False
    return _in_range(code, 96360, 96379) or _in_range(code, 96401, 96549)


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
    severity_when = {Severity.WARNING: "for a fractional unit count"}
    fix = FixAvailability.NONE
    applies_to_void = True

    needs = Need.INJECTION

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
        J-, Q- or other drug code billed on its own 2400 in the same encounter: same date, same
        rendering provider). A drug goes to the administration that gave it, and a 96372 gives
        one drug per unit, so a second 96372 line beside a single drug is reported too. A
        warning by default; deny-risk for the payer profiles listed in ``drug_line_required``.

        When the encounter does have drug lines but 96372 cannot give any of them (an
        intra-articular hyaluronan J7321-J7329, a contraceptive device or implant J7296-J7307,
        an IV fluid, an oral drug, an intravitreal drug, an antineoplastic given only
        intravenously, nirsevimab since its own codes 96380/96381), the finding is deny-risk
        and names the administration codes that give that drug (shipped tables
        ``administration_codes.csv`` and ``drug_delivery.csv``).

    Why it matters:
        96372 bills the administration only. Without a drug line the drug may have been a free
        sample, supplied by the patient, or simply left off the claim, which loses its payment.
        Medicare still pays the administration of a patient-supplied drug that would have been
        covered, but some Medicaid and commercial payers deny an administration billed without
        the drug. A 96372 billed for a drug it cannot give (a hyaluronan goes with 20610/20611,
        an implant with 11981) is the wrong administration code and is denied.

    Fix safety:
        No fix. Whether a drug was bought, supplied or forgotten is only in the record.

    Example:
        A claim with ``SV1*HC:96372*35*UN*1***1~`` on 2025-03-14 and no J-code line on that date
        is reported on the 96372 line.

    Sources:
        CPT 96372 descriptor; Pub 100-02 Ch 15 §60.1 (administration payable whatever the
        drug's source), as quoted in a Noridian chemotherapy billing guide; HCPCS descriptors of
        J7296-J7307, J7321-J7329, J7030-J7060; CMS LCD L39529 (hyaluronans with 20610/20611).

    Options:
        ``drug_line_required = ["medicaid"]`` makes the finding deny-risk for those profiles.
    """

    severity = Severity.WARNING
    severity_when = {
        Severity.DENY_RISK: (
            "for the drug_line_required profiles, or when 96372 cannot give the encounter's drugs"
        )
    }
    fix = FixAvailability.NONE

    needs = Need.INJECTION

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report each 96372 line left without a drug line by the pairing."""
        unpaired = ctx.pairing.unpaired_injections
        if not unpaired:
            return
        required = ctx.profile in ctx.settings.drug_line_required
        severity = Severity.DENY_RISK if required else Severity.WARNING
        for line in unpaired:
            wrong = self._drugs_it_cannot_give(ctx, line)
            if wrong:
                yield ctx.report(
                    self,
                    f"96372 (line {line.number}) cannot administer "
                    f"{_join([f'{d.code} ({_KIND_TEXT.get(k, k)})' for d, k in wrong])}: "
                    f"it is given with {_join(self._codes_for(ctx, line, wrong))}; bill the "
                    "administration that gave it instead of 96372.",
                    line.sv1,
                    "SV101-2",
                    line=line,
                    severity=Severity.DENY_RISK,
                )
                continue
            if line.drug is not None and line.drug.ndc:
                tail = (
                    f"; the NDC {line.drug.ndc} sits on the 96372 line itself, so bill the drug"
                    " on its own HCPCS line"
                )
            elif any(ctx.is_drug_line(other) for other in ctx.encounter_of(line)):
                tail = (
                    ": every drug line of the encounter is given by another administration (one "
                    "drug per injection); add the drug this injection gave, or bill the "
                    "injections as one line with their count in SV104"
                )
            else:
                tail = "; add the drug line, or document a sample or patient-supplied drug"
            dos = line.service_date
            when = dos.isoformat() if dos is not None else "its date of service"
            yield ctx.report(
                self,
                f"96372 (line {line.number}) on {when} has no drug line of its own in the same "
                f"encounter{tail}.",
                line.sv1,
                "SV101-2",
                line=line,
                severity=severity,
            )

    @staticmethod
    def _drugs_it_cannot_give(
        ctx: CheckContext, line: ServiceLine
    ) -> list[tuple[ServiceLine, str]]:
        """The encounter's unplaced drug lines with their kind, when 96372 can give none."""
        row = ctx.refdata.administration(INJECTION, line.service_date)
        if row is None:
            return []
        # A drug another administration gave (a hyaluronan with 20610) is accounted for.
        unplaced = {id(d) for d in ctx.pairing.unpaired_drugs}
        drugs = [d for d in ctx.encounter_of(line) if id(d) in unplaced]
        wrong = []
        for drug in drugs:
            classes = ctx.refdata.drug_classes(drug.code)
            if row.can_give(classes):
                return []
            wrong.append((drug, _kind_of(classes)))
        return wrong

    @staticmethod
    def _codes_for(
        ctx: CheckContext, line: ServiceLine, wrong: list[tuple[ServiceLine, str]]
    ) -> list[str]:
        codes: list[str] = []
        for drug, _ in wrong:
            for code in ctx.refdata.administrations_for(
                ctx.refdata.drug_classes(drug.code), line.service_date
            ):
                if code not in codes:
                    codes.append(code)
        return codes or ["another administration code"]


# What a drug 96372 cannot give is, in the words of the HCPCS descriptors.
_KIND_TEXT = {
    "hyaluronan": "an intra-articular hyaluronan",
    "device": "a contraceptive device or implant",
    "iv-fluid": "an IV fluid",
    "iv-only": "a drug given only intravenously",
    "oral": "an oral drug",
    "intravitreal": "an intravitreal drug",
    "rsv-antibody": "an RSV monoclonal antibody",
    "vaccine": "a vaccine",
}


def _kind_of(classes: frozenset[str]) -> str:
    for kind in _KIND_TEXT:
        if kind in classes:
            return kind
    return "drug"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


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

    needs = Need.SEVERAL_INJECTION_UNITS | Need.DRUG

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

    needs = Need.SEVERAL_INJECTIONS

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

    needs = Need.INJECTION

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
                free_modifier_ref(line),
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
        For every 96372 line paired with drug lines, compares the rendering person of each
        line (2420A when present, else 2310B, else the billing provider 2010AA when it is a
        person). A billing organisation's NPI names no rendering person, so a line that falls
        back to it is not compared.

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

    needs = Need.INJECTION | Need.DRUG | Need.LINE_PROVIDER

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report drug lines whose rendering NPI differs from their 96372 line's."""
        for pair in ctx.pairing.pairs:
            injection = pair.injection
            injection_npi: str | None = None
            for drug in pair.drugs:
                if injection.rendering is None and drug.rendering is None:
                    continue  # both lines fall back to the same claim-level provider
                if injection_npi is None:
                    injection_npi = rendering_person_npi(claim, injection)
                drug_npi = rendering_person_npi(claim, drug)
                # A billing organisation's NPI names no rendering person: a line that falls
                # back to it (no 2420A or 2310B) says nothing about who gave the drug.
                if not injection_npi or not drug_npi or drug_npi == injection_npi:
                    continue
                # Point at the line-level 2420A that makes the difference.
                at = drug if drug.rendering is not None else injection
                nm1 = at.rendering.nm1 if at.rendering is not None else None
                yield ctx.report(
                    self,
                    f"The drug line {line_label(drug)} is rendered by NPI {drug_npi} but its 96372 "
                    f"(line {injection.number}) by NPI {injection_npi}; bill both under the "
                    "provider who gave the injection.",
                    nm1 if nm1 is not None else drug.sv1,
                    "NM109" if nm1 is not None else "SV101-2",
                    line=at,
                )


class INJ007(Rule):
    """A drug line that more than one administration code of its encounter could have given.

    What it does:
        Reports a drug line that the pairing could give to administration lines of different
        codes (96372 and an IV push 96374, say) when neither the diagnosis pointers (SV107)
        nor what each code can deliver (the shipped ``administration_codes.csv`` and
        ``drug_delivery.csv``) tell them apart. The pairing then follows line order; the
        finding names the drug line, the administration lines and the one line order chose.

    Why it matters:
        A drug belongs to the administration that gave it. When the claim does not say which
        one did, the payer's own pairing may differ from ours, and the edits that rest on it
        (a 96372 without a drug, chemotherapy administration, JW/JZ) may be wrong either way.
        Pointing the drug line at the same diagnosis as its administration settles it.

    Fix safety:
        No fix: only the person who gave the drug knows how.

    Example:
        ``SV1*HC:96372*35*UN*1***1~``, ``SV1*HC:96374*90*UN*1***1~`` and
        ``SV1*HC:J1885*8*UN*2***1~``, all pointing at diagnosis 1 on one date: the J1885 line
        is reported.

    Sources:
        CPT 96372 and 96374 descriptors (route of administration); NCCI Policy Manual Ch XI
        (the drug is reported with the administration that gave it).
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    needs = Need.SEVERAL_ADMINISTRATIONS | Need.DRUG

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report drug lines whose administration the pairing chose by line order alone."""
        pairing = ctx.pairing
        for drug in pairing.ambiguous:
            choices = pairing.ambiguous_choices.get(id(drug), [])
            if len(choices) < 2:
                continue
            named = ", ".join(f"{a.code} (line {a.number})" for a in choices)
            chosen = choices[0]
            yield ctx.report(
                self,
                f"The drug line {line_label(drug)} could have been given by {named}; the "
                f"diagnosis pointers do not say which, so it was paired with line "
                f"{chosen.number} by line order. Point SV107 of the drug line at the same "
                "diagnosis as its administration line, and the other administration's at its "
                "own.",
                drug.sv1,
                "SV107-1",
                line=drug,
            )
