"""NOC rules: a NOC/unlisted drug line says what was given, and how much."""

from __future__ import annotations

from collections.abc import Iterator

from edi837.findings import Finding, Severity
from edi837.refdata import ReferenceData
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
    suggestion,
)
from edi837.rules.drug.common import crosswalk_rows, line_ndc, ndc_package_of
from edi837.rules.needs import Need
from edi837.rules.profiles import Profile
from edi837.rules.settings import Settings
from edi837.x837p.model import Claim, ServiceLine


class NOC001(Rule):
    """A NOC drug line has an SV101-7 description and an NDC in loop 2410.

    What it does:
        On lines billed with a not-otherwise-classified or unlisted drug code (J3490, J3590,
        J9999, 90399 …, plus ``extra_noc``), reports a missing SV101-7 description and a
        missing loop 2410.

    Why it matters:
        A NOC code does not say which drug was given; the payer prices it from the
        description (drug name, strength, dose given, route) and the NDC. Without them MACs
        return the line as unprocessable (CO-16 with RARC M123 for the description, M119 for
        the NDC). Some MACs also accept the text in 2400 NTE02, but SV101-7 is where the TR3
        puts it.

    Fix safety:
        A suggestion in words. The drug name and strength can be taken from the FDA NDC
        Directory when the NDC is known; the dose given must come from the biller.

    Example:
        ``SV1*HC:J3490*45*UN*1***1~`` should be
        ``SV1*HC:J3490:::::KETOROLAC 30MG/ML 30MG IM*45*UN*1***1~`` with a 2410.

    Sources:
        TR3 SV101-7 situational rule (X12 RFI #2448); Palmetto GBA NOC article; WPS J3490
        tips; MAC note on NOC drugs (NDC, name, dosage, else unprocessable); RARC M123.

    Options:
        ``extra_noc`` adds payer-specific NOC codes.
    """

    severity = Severity.REJECT
    fix = FixAvailability.DISPLAY

    needs = Need.NOC

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report NOC drug lines without an SV101-7 description or without a 2410."""
        for line in ctx.noc_lines:
            assert line.sv1 is not None
            if not line.description.strip():
                yield ctx.report(
                    self,
                    self._description_message(line),
                    line.sv1,
                    "SV101-7",
                    line=line,
                    fix=suggestion(self._description_hint(line, ctx)),
                )
            if line.drug is None or not line.drug.ndc:
                yield ctx.report(
                    self,
                    f"NOC drug line {line.code} has no NDC; add a 2410 with LIN**N4 and CTP "
                    "for the package administered.",
                    line.sv1,
                    "SV101-2",
                    line=line,
                    fix=suggestion("Add loop 2410 with the NDC (LIN**N4) and quantity (CTP)"),
                )

    @staticmethod
    def _description_message(line: ServiceLine) -> str:
        note = (
            " (an NTE is present, but SV101-7 is where the TR3 puts it)"
            if any(seg.id == "NTE" for seg in line.loop.segments)
            else ""
        )
        return (
            f"NOC drug line {line.code} has no SV101-7 description{note}; give the drug name, "
            "strength and dose given."
        )

    @staticmethod
    def _description_hint(line: ServiceLine, ctx: CheckContext) -> str:
        ndc = line_ndc(line, ctx)
        package = ndc_package_of(ndc, ctx)
        if package is not None:
            name = package.nonproprietary_name or package.proprietary_name
            parts = " ".join(p for p in (name.upper(), package.strength) if p)
            if parts:
                return f"Put in SV101-7 '{parts}', the dose given and the route"
        return "Put in SV101-7 the drug name, strength, dose given and route"


class NOC002(Rule):
    """A NOC code is billed although the crosswalk has a specific HCPCS code for the NDC.

    What it does:
        On NOC drug lines with an NDC, looks the NDC up in the loaded ASP NDC-HCPCS crosswalk
        and reports the line when the crosswalk maps it to a specific (non-NOC) code. Silent
        without a crosswalk or when the NDC is not in it.

    Why it matters:
        Payers deny or reprice a NOC line for a drug that has its own code (CO-4/CO-16): the
        specific code carries the ASP payment limit and the MUE.

    Fix safety:
        A suggestion in words naming the crosswalk code(s). Recoding also changes SV104 to
        that code's billing unit and drops the SV101-7 description, which the biller must do.

    Example:
        ``SV1*HC:J3490:::::KETOROLAC 30MG*…`` with ``LIN**N4*00409379501~`` when the crosswalk
        maps that NDC to J1885.

    Sources:
        AAO injectable-drug guidance; CMS ASP NDC-HCPCS crosswalk.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    needs = Need.NOC

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report NOC drug lines whose NDC has a specific code in the crosswalk."""
        for line in ctx.noc_lines:
            ndc = line_ndc(line, ctx)
            if ndc is None:
                continue
            rows = crosswalk_rows(ndc, ctx)
            specific = sorted({row.hcpcs for row in rows if not ctx.is_noc(row.hcpcs)})
            if not specific:
                continue
            assert line.sv1 is not None
            listed = " or ".join(specific)
            dosage = {row.hcpcs: row.dosage for row in rows}
            units = "; ".join(f"{code} per {dosage[code]}" for code in specific if dosage[code])
            hint = f"Bill {listed} instead of {line.code}"
            hint += f" with SV104 in its billing unit ({units})" if units else ""
            yield ctx.report(
                self,
                f"NDC {ndc} has a specific code in the ASP crosswalk ({listed}); bill it "
                f"instead of the NOC code {line.code}.",
                line.sv1,
                "SV101-2",
                line=line,
                fix=suggestion(hint),
            )


class NOC003(Rule):
    """Medicare: a NOC drug line is billed as 1 unit with the dose in the description.

    What it does:
        Under the medicare profile, reports a NOC drug line whose SV104 is not 1. The
        one-unit convention is for NOC codes without a dose in their descriptor (J3490, J3590,
        J9999 ...); a NOC code whose descriptor defines a billing unit (J1599, immune globulin
        NOS, per 500 mg) is billed in those units and is not reported (shipped table
        ``noc_drugs.csv``).

    Why it matters:
        NOC codes have no dose per unit; MACs price the line from the description and NDC
        and expect one unit. More units are repriced or denied (MUE, or CO-16).

    Fix safety:
        No fix: the dose must move into SV101-7 and the charge may need a look.

    Example:
        ``SV1*HC:J3490:::::DRUG 40MG*45*UN*4***1~`` should bill 1 unit.

    Sources:
        WPS J3490 tips (VERIFY for your MAC).

    Options:
        Applies under the medicare profile only. A MAC that wants dose units on NOC lines
        can be accommodated with ``ignore = ["NOC-003"]`` or a severity override.
    """

    severity = Severity.WARNING
    severity_by_profile = {Profile.MEDICARE: Severity.WARNING}
    fix = FixAvailability.NONE

    needs = Need.NOC

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Medicare only."""
        return profile is Profile.MEDICARE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report, under Medicare, NOC drug lines billed with more than one unit."""
        if ctx.profile is not Profile.MEDICARE:
            return
        for line in ctx.noc_lines:
            assert line.sv1 is not None
            units = line.units
            if units is None or units <= 0 or units == 1:
                continue  # a missing or zero count is R-DRG-001's
            if ctx.refdata.noc_billing_unit(line.code) is not None:
                continue  # J1599 is billed per 500 mg: units count doses, not one line
            yield ctx.report(
                self,
                f"NOC drug line {line.code} bills {line.units_text} units; Medicare expects 1 "
                "unit with the dose in SV101-7.",
                line.sv1,
                "SV104",
                line=line,
            )
