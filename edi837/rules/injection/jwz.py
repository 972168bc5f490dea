"""JWZ rules: JW/JZ on drugs from single-dose containers (CMS Discarded Drugs policy)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from edi837.findings import Finding, Severity
from edi837.refdata import ReferenceData, normalize_hyphenated
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
    suggestion,
)
from edi837.rules.injection.common import free_modifier_ref, line_label, modifier_ref
from edi837.rules.injection.modifiers import second_modifier_ref
from edi837.rules.lines import INJECTION
from edi837.rules.needs import Need
from edi837.rules.profiles import Profile
from edi837.rules.settings import Settings
from edi837.x837p.model import Claim, ServiceLine

# JZ required on Medicare Part B claims from 2023-07-01; claims edits return it from 2023-10-01.
JZ_REQUIRED_FROM = date(2023, 7, 1)


JZ_EDITS_FROM = date(2023, 10, 1)


# FQHC (50) and RHC (72) services are exempt from the JW/JZ requirement (catalogue R-JWZ-005).
JWZ_EXEMPT_POS = frozenset({"50", "72"})


JW_JZ = frozenset({"JW", "JZ"})


_CPT = re.compile(r"^\d{4}[0-9FMTU]$")


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

        Under Medicare, a code whose products come in both kinds (``mixed``, most everyday
        96372 drugs) without JZ or JW and without FDA package data that settles it is a
        warning that the container type is unknown, saying how to load the FDA data; with the
        data, the line is decided as above.

        JW and JZ apply only to single-dose containers: a JW or JZ line whose drug comes from
        a multi-dose container (package description, or the table's ``single_dose = "no"``)
        is reported too (deny-risk under Medicare, a warning for the other profiles listed).

        Exemptions (catalogue R-JWZ-005), where nothing is reported: multi-dose containers
        without JW or JZ; services at an FQHC (POS 50) or RHC (POS 72). Drugs that
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
    severity_when = {
        Severity.DENY_RISK: (
            "under Medicare from 2023-07-01 to 2023-09-30, and for JW/JZ on a multi-dose container"
        ),
        Severity.WARNING: "for other listed profiles, and when the container type is unknown",
    }
    fix = FixAvailability.NONE

    needs = Need.DRUG

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Only under the profiles that require JW/JZ (``jwz_profiles``)."""
        return profile in settings.jwz_profiles

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report single-dose drug lines without JZ or a JW line."""
        if ctx.profile not in ctx.settings.jwz_profiles:
            return
        medicare = ctx.profile is Profile.MEDICARE
        for line in ctx.drug_lines:
            dos = line.service_date
            if dos is None or dos < JZ_REQUIRED_FROM:
                continue
            if ctx.line_pos(line) in JWZ_EXEMPT_POS:
                continue
            container = _container(ctx, line)
            used = line.modifier_codes & JW_JZ
            if used:
                if container == "multi":
                    yield self._multi_dose(ctx, line, sorted(used), medicare)
                continue
            if _has_waste_line(claim, line):
                continue
            if container is None:
                if medicare and self._mixed(ctx, line):
                    yield self._unknown(ctx, line)
                continue
            if container != "single":
                continue
            if not medicare:
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
                free_modifier_ref(line),
                line=line,
                severity=severity,
            )

    def _multi_dose(
        self, ctx: CheckContext, line: ServiceLine, used: list[str], medicare: bool
    ) -> Finding:
        mods = "/".join(used)
        return ctx.report(
            self,
            f"{mods} on {line.code}: JW and JZ apply only to drugs from single-dose containers, "
            f"and this {line.code} comes from a multi-dose container; remove {mods}.",
            line.sv1,
            modifier_ref(line, set(used)),
            line=line,
            severity=Severity.DENY_RISK if medicare else Severity.WARNING,
        )

    @staticmethod
    def _mixed(ctx: CheckContext, line: ServiceLine) -> bool:
        """The code's products come in single-dose and multi-dose containers alike."""
        drug = ctx.refdata.drug(line.code)
        return drug is not None and drug.single_dose == "mixed"

    def _unknown(self, ctx: CheckContext, line: ServiceLine) -> Finding:
        if ctx.refdata.ndc_directory is None:
            how = (
                "load the FDA NDC Directory (--refdata with product.txt and package.txt) to "
                "tell from the NDC"
            )
        else:
            how = "the FDA package description of the billed NDC does not say which"
        return ctx.report(
            self,
            f"{line.code} is marketed in single-dose and multi-dose containers and this line "
            f"has neither JZ nor a JW line; if the container was single-dose, Medicare needs "
            f"JZ or a JW line ({how}).",
            line.sv1,
            free_modifier_ref(line),
            line=line,
            severity=Severity.WARNING,
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
    applies_to_void = True

    needs = Need.JW

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report lines with both JW and JZ."""
        for line in claim.lines:
            if JW_JZ <= line.modifier_codes:
                yield ctx.report(
                    self,
                    f"{line.code} carries both JW and JZ; JZ says nothing was discarded, JW bills "
                    "what was. Keep the one the record supports.",
                    line.sv1,
                    second_modifier_ref(line, {"JW", "JZ"}),
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

    needs = Need.WASTAGE_ON_PROCEDURE

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
                f"the drug line {line_label(drugs[0])}"
                if len(drugs) == 1
                else "the drug line it describes"
            )
            yield ctx.report(
                self,
                f"{which} on {line.code} is invalid: JW/JZ belong on the drug line; move it to "
                f"{target}.",
                line.sv1,
                modifier_ref(line, found),
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

    needs = Need.JW

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
                        modifier_ref(line, {"JW"}),
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
                    modifier_ref(line, {"JW"}),
                    line=line,
                )
