"""DRG rules: drug units and charges that point at a unit-conversion or sample mistake."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from edi837.findings import Finding, Severity
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
)
from edi837.rules.needs import Need
from edi837.x837p.model import Claim

# Charges that mean "no charge": a state-supplied product (SL), a free sample or a donated
# drug (R-DRG-002).
_NO_CHARGE = (Decimal("0"), Decimal("0.01"))


class DRG001(Rule):
    """A drug line bills SV103 ``UN`` and SV104 > 0 whole HCPCS descriptor units.

    What it does:
        On drug lines, reports an SV104 that is missing, not a number, zero or negative
        (reject); and as warnings an SV103 other than ``UN`` (drugs are billed in units of
        the HCPCS descriptor, not minutes) and a fractional SV104.

    Why it matters:
        Clearinghouses reject unit counts of 0 or less. Drug units are descriptor units
        ("per 15 mg"): Medicare rounds a partial unit up to the next whole unit and pays
        neither minutes nor packages, so fractional or minute-based units are repriced or
        denied (CO-16, or MUE denials for package counts).

    Fix safety:
        No fix: the units follow from the dose given, which the claim does not state.

    Example:
        ``SV1*HC:J1885*8*MJ*2***1~`` or ``SV1*HC:J1885*8*UN*1.5***1~``.

    Sources:
        Stedi unit-count edit; Noridian JZ page (round to the appropriate UOS); AAO
        injectable-drug guidance.
    """

    severity = Severity.WARNING
    severity_when = {Severity.REJECT: "when SV104 is 0 or less"}
    fix = FixAvailability.NONE

    needs = Need.DRUG

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report drug-line unit counts that are not positive whole HCPCS units."""
        for line in ctx.drug_lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            units = line.units
            if units is None or units <= 0:
                shown_units = line.units_text or "empty"
                yield ctx.report(
                    self,
                    f"SV104 is {shown_units} on drug line {line.code}; bill the dose given in "
                    "HCPCS units greater than 0.",
                    sv1,
                    "SV104",
                    line=line,
                    severity=Severity.REJECT,
                )
                continue
            if line.unit_basis != "UN":
                yield ctx.report(
                    self,
                    f"SV103 is {line.unit_basis or 'empty'} on drug line {line.code}; drugs are "
                    "billed in HCPCS descriptor units (UN).",
                    sv1,
                    "SV103",
                    line=line,
                )
            if units != units.to_integral_value():
                yield ctx.report(
                    self,
                    f"SV104 {line.units_text} on drug line {line.code} is a partial unit; bill "
                    "whole HCPCS units (Medicare rounds a partial unit up).",
                    sv1,
                    "SV104",
                    line=line,
                )


class DRG002(Rule):
    """A drug charged $0.00/$0.01 (state-supplied with SL, or a free sample) follows payer policy.

    What it does:
        Reports a drug line whose SV102 is 0 or 0.01. Two different cases bill that way: a
        state-supplied product (modifier SL, e.g. a Vaccines for Children or state-program
        dose), and a free sample or manufacturer-donated drug that cost the practice nothing.
        The message names which one the line is.

    Why it matters:
        A drug that cost the practice nothing is not billable incident-to; most payers want
        it left off, some want it reported at $0.00 or $0.01 for tracking. State programs
        usually want the SL line reported at $0.00 so the dose is counted. The wrong choice
        gets the line (or the administration) denied.

    Fix safety:
        No fix: whether to keep the line depends on the payer.

    Example:
        ``SV1*HC:J0897*0.01*UN*60***1~`` (a free sample) or ``SV1*HC:90686:SL*0*UN*1***1~``
        (a state-supplied product).

    Sources:
        AAO injectable-drug guidance; Medicare Benefit Policy Manual (Pub 100-02) ch. 15
        incident-to (the drug must be an expense to the biller); HCPCS Level II modifier SL
        (state-supplied vaccine).
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    needs = Need.DRUG

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report drug lines charged $0.00 or $0.01."""
        for line in ctx.drug_lines:
            charge = line.charge
            if line.sv1 is None or charge is None:
                continue
            if charge in _NO_CHARGE:
                # SL marks a product the state supplied; without it a $0 drug is a sample or
                # donation. Payers treat the two differently, so say which one this is.
                what = (
                    "a state-supplied product (modifier SL)"
                    if "SL" in line.modifier_codes
                    else "a free sample or other drug that cost the practice nothing"
                )
                yield ctx.report(
                    self,
                    f"Drug line {line.code} is charged {line.sv1.element(2)}, {what}; "
                    "report it only as the payer's policy for no-cost drugs asks.",
                    line.sv1,
                    "SV102",
                    line=line,
                )
