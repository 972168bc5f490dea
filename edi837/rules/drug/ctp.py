"""CTP rules: the NDC quantity is an X12 decimal in an 837P unit that fits the product.

CTP-003 also compares the NDC quantity with the units billed in SV104.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TypeAlias

from edi837.findings import Applicability, Finding, Fix, Severity
from edi837.refdata.model import CrosswalkRow, NdcPackage
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
    replace_fix,
    suggestion,
)
from edi837.rules.drug.common import crosswalk_rows, line_ndc, ndc_package_of
from edi837.rules.needs import Need
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, ServiceLine, parse_decimal

# FDA dosage-form words: products counted by the piece, and products measured by volume.
_SOLID_FORMS = (
    "POWDER",
    "TABLET",
    "CAPSULE",
    "KIT",
    "PATCH",
    "IMPLANT",
    "PELLET",
    "INSERT",
    "FILM",
    "SUPPOSITORY",
    "SYSTEM",
)


_LIQUID_FORMS = ("SOLUTION", "SUSPENSION", "EMULSION", "INJECTION", "LIQUID", "CONCENTRATE")

#: CTP05-1 codes the TR3 allows: international unit, gram, milligram, milliliter, unit.
NDC_UNITS = frozenset({"F2", "GR", "ME", "ML", "UN"})


# An X12 R (decimal) value as people write it: optional sign, digits, optional fraction.
_DECIMAL_TEXT = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?$")


_MAX_DECIMAL_DIGITS = 15  # CTP04 is R 1-15; sign and decimal point do not count


# How much of the HCPCS dose unit one NDC unit holds, for units that are themselves a dose.
_DOSE_PER_NDC_UNIT: dict[str, dict[str, Decimal]] = {
    "ME": {"MG": Decimal(1), "MCG": Decimal(1000), "G": Decimal("0.001")},
    "GR": {"MG": Decimal(1000), "MCG": Decimal(1000000), "G": Decimal(1)},
    "F2": {"IU": Decimal(1), "UNITS": Decimal(1), "USP UNITS": Decimal(1)},
    "ML": {"ML": Decimal(1)},
}


# FDA strength of a liquid, e.g. "30 mg/mL", "10000 [USP'U]/mL", "200 mg/5mL".
_LIQUID_STRENGTH = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(mg|mcg|ug|g|\[iU\]|\[USP'U\]|U|units?)\s*/\s*(\d+(?:\.\d+)?)?\s*mL\s*$",
    re.IGNORECASE,
)


_STRENGTH_UNIT = {
    "MG": ("MG", Decimal(1)),
    "MCG": ("MG", Decimal("0.001")),
    "UG": ("MG", Decimal("0.001")),
    "G": ("MG", Decimal(1000)),
    "[IU]": ("UNITS", Decimal(1)),
    "[USP'U]": ("UNITS", Decimal(1)),
    "U": ("UNITS", Decimal(1)),
    "UNIT": ("UNITS", Decimal(1)),
    "UNITS": ("UNITS", Decimal(1)),
}


_HCPCS_DOSE_IN = {
    "MG": ("MG", Decimal(1)),
    "MCG": ("MG", Decimal("0.001")),
    "G": ("MG", Decimal(1000)),
    "IU": ("UNITS", Decimal(1)),
    "UNITS": ("UNITS", Decimal(1)),
    "USP UNITS": ("UNITS", Decimal(1)),
}


# The crosswalk's HCPCS dosage ("10 MG", "100 UNITS", "0.1 MCG") as a billing unit.
_CROSSWALK_DOSAGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Z ]+?)\s*$", re.IGNORECASE)


_CROSSWALK_UNITS = {
    "MG": "MG",
    "MCG": "MCG",
    "G": "G",
    "GM": "G",
    "ML": "ML",
    "UNIT": "UNITS",
    "UNITS": "UNITS",
    "IU": "IU",
    "USP UNITS": "USP UNITS",
}


_UNIT_STRENGTH = re.compile(r"\[IU\]|\[USP'U\]|\bU\b|UNIT", re.IGNORECASE)


# A billing-unit ratio this close to 1 makes CTP04 = SV104 plausible (salt vs base strengths).
_NEAR_ONE = Decimal("1.25")


_ONE_UNIT = Decimal(1)


def _dose_text(dose: tuple[Decimal, str]) -> str:
    return f"{dose[0].normalize():f} {dose[1]}"


def _num(value: Decimal) -> str:
    """A decimal for a message: no exponent, no trailing zeros, at most 3 decimals."""
    rounded = value if value == value.to_integral() else value.quantize(Decimal("0.001"))
    return f"{rounded.normalize():f}"


def _form_kind(line: ServiceLine, package: NdcPackage | None, ctx: CheckContext) -> str | None:
    """``liquid``, ``solid`` or None: the FDA dosage form, else the HCPCS table's usual form."""
    if package is not None and package.dosage_form:
        form = package.dosage_form.upper()
        # "INJECTION, POWDER, FOR SOLUTION" is a powder: test the solid words first.
        if any(word in form for word in _SOLID_FORMS):
            return "solid"
        if any(word in form for word in _LIQUID_FORMS):
            return "liquid"
        return None
    drug = ctx.refdata.drug(line.code)
    if drug is None:
        return None
    if drug.form in ("solution", "suspension"):
        return "liquid"
    if drug.form == "powder":
        return "solid"
    return None


# CTP04 values already found to be positive, canonical X12 decimals ("1", "0.5", "10"): most
# files repeat a handful of quantities, and each is checked once. Emptied past a bound.
_CLEAN_QUANTITIES: set[str] = set()
_MEMO_LIMIT = 4096


def canonical_decimal(text: str) -> str | None:
    """``text`` written as X12.6 wants an R value: no ``+``, no needless zeros or point.

    Returns None when ``text`` is not a plain decimal number (commas, letters, empty).
    ``2.000`` gives ``2``, ``+3`` gives ``3``, ``007`` gives ``7``, ``0.50`` gives ``0.5``.
    """
    match = _DECIMAL_TEXT.match(text)
    if match is None:
        return None
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if not whole and not fraction:
        return None
    fraction = fraction.rstrip("0")
    stripped = whole.lstrip("0")
    if not stripped and whole and fraction:
        stripped = "0"  # "0.5" keeps its zero; ".5" stays as sent
    body = stripped + ("." + fraction if fraction else "")
    if not body:
        body = "0"
    return ("-" if sign == "-" else "") + body


def _directory_package(line: ServiceLine, ctx: CheckContext) -> NdcPackage | None:
    """The FDA package of the line's NDC when the NDC Directory is loaded."""
    if ctx.refdata.ndc_directory is None:
        return None
    return ndc_package_of(line_ndc(line, ctx), ctx)


def _labelled_in_units(line: ServiceLine, package: NdcPackage | None, ctx: CheckContext) -> bool:
    """True when the product is dosed in units, or when nothing says otherwise."""
    if package is not None and package.strength:
        return bool(_UNIT_STRENGTH.search(package.strength))
    drug = ctx.refdata.drug(line.code)
    if drug is None or not drug.has_billing_unit:
        return True
    return drug.unit not in ("MG", "MCG", "G", "ML")


def unit_misfit(
    line: ServiceLine,
    unit: str,
    package: NdcPackage | None,
    form: str | None,
    ctx: CheckContext,
) -> tuple[str | None, str] | None:
    """Why NDC unit ``unit`` does not fit the line's product, and the unit that would.

    None when it fits or nothing can be said. CTP-004 reports the misfit of the unit sent;
    CTP-002 asks it of the unit its fix would write, so that a safe fix never causes it.
    """
    if unit == "ML" and form == "solid":
        return "UN", "is counted by the piece"
    if unit in ("GR", "ME") and form == "liquid":
        return "ML", "is a liquid measured by volume"
    if unit == "F2" and not _labelled_in_units(line, package, ctx):
        wanted = {"liquid": "ML", "solid": "UN"}.get(form or "")
        if wanted is None and package is None:
            return None
        return wanted, "is not labelled in units"
    return None


class CTP001(Rule):
    """CTP04 is present, greater than 0 and a valid X12 decimal.

    What it does:
        Reports a 2410 CTP whose CTP04 (National Drug Unit Count, R 1-15) is missing, not a
        number, zero or negative, longer than 15 digits, signed with ``+`` or written with a
        comma; and, as a warning, one written with needless zeros (``2.000``, ``007``).

    Why it matters:
        Clearinghouses reject a drug unit count of 0 or less ("Invalid drug unit count") and
        X12 syntax rejects what is not a decimal. Needless zeros are allowed by most
        receivers, but X12.6 says to suppress them.

    Fix safety:
        Safe for ``+`` and needless zeros: ``+2`` and ``2.000`` become ``2``, ``007`` becomes
        ``7``; the value does not change. Never for commas: ``1,5`` may mean one and a half
        or fifteen.

    Example:
        ``CTP****2.000*ML~`` becomes ``CTP****2*ML~``.

    Sources:
        X12 RFI #1924 (X12.6 §3.5.1 decimal format); Stedi "Invalid drug unit count" edit.
    """

    severity = Severity.REJECT
    severity_when = {Severity.WARNING: "when CTP04 only has needless zeros"}
    fix = FixAvailability.SOMETIMES
    applies_to_void = True

    needs = Need.NDC_LOOP

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report a CTP04 that is not a positive X12 decimal, or not written canonically."""
        for line in claim.lines:
            if line.drug is None or line.drug.ctp is None:
                continue
            ctp = line.drug.ctp
            finding = self._check_quantity(ctp, line, ctx)
            if finding is not None:
                yield finding

    def _check_quantity(self, ctp: Segment, line: ServiceLine, ctx: CheckContext) -> Finding | None:
        text = ctp.element(4)
        if text in _CLEAN_QUANTITIES:
            return None
        if not text:
            return ctx.report(
                self,
                "CTP04 is empty; report the quantity administered in NDC units.",
                ctp,
                "CTP04",
                line=line,
            )
        if "," in text:
            return ctx.report(
                self,
                f"CTP04 {text!r} has a comma; X12 decimals use a point and no thousands "
                "separator, so write the quantity again.",
                ctp,
                "CTP04",
                line=line,
            )
        canonical = canonical_decimal(text)
        value = parse_decimal(canonical) if canonical is not None else None
        if canonical is None or value is None:
            return ctx.report(
                self,
                f"CTP04 {text!r} is not a decimal number; report the NDC quantity in digits.",
                ctp,
                "CTP04",
                line=line,
            )
        if value <= 0:
            return ctx.report(
                self,
                f"CTP04 {text} is not greater than 0; report the quantity administered.",
                ctp,
                "CTP04",
                line=line,
            )
        if sum(ch.isdecimal() for ch in canonical) > _MAX_DECIMAL_DIGITS:
            return ctx.report(
                self,
                f"CTP04 {text} has more than 15 digits; round it to the precision needed.",
                ctp,
                "CTP04",
                line=line,
            )
        if canonical == text:
            if len(_CLEAN_QUANTITIES) >= _MEMO_LIMIT:
                _CLEAN_QUANTITIES.clear()
            _CLEAN_QUANTITIES.add(text)
            return None
        fix = replace_fix(ctp, "CTP04", canonical, f"Write CTP04 as {canonical}")
        if text.startswith("+"):
            return ctx.report(
                self,
                f"CTP04 {text} carries a '+' sign, which X12 decimals do not allow; write "
                f"{canonical}.",
                ctp,
                "CTP04",
                line=line,
                fix=fix,
            )
        return ctx.report(
            self,
            f"CTP04 {text} has needless zeros or a bare decimal point; write {canonical}.",
            ctp,
            "CTP04",
            line=line,
            severity=Severity.WARNING,
            fix=fix,
        )


class CTP002(Rule):
    """CTP05-1 is one of F2, GR, ME, ML, UN.

    What it does:
        Reports a 2410 CTP whose unit code (CTP05-1) is empty or not in the 837P list: F2
        international unit, GR gram, ME milligram, ML milliliter, UN unit.

    Why it matters:
        A code outside the list fails the front-end syntax edit, and the payer cannot read
        the NDC quantity (reject, or CO-16/M119).

    Fix safety:
        Safe for spellings that mean an 837P code: ``MG`` becomes ``ME``, ``GM`` becomes
        ``GR``, ``IU`` becomes ``F2``, and a lower-case valid code is upper-cased. ``EA`` (a
        T-MSIS code) becomes ``UN`` only as an unsafe fix: "each" may count vials or doses,
        so check CTP04 too. Other values have no fix. A respelling is unsafe too when the unit
        it writes would not fit the product's dosage form (CTP-004): ``MG`` on ketorolac, a
        solution, would become ``ME`` and then be reported for not being ``ML``, which needs
        CTP04 restated; a safe fix never leaves a finding the same run would report.

    Example:
        ``CTP****30*MG~`` becomes ``CTP****30*ME~``.

    Sources:
        pyx12 837P map (CTP05-1 code list); ResDAC/T-MSIS NDC unit codes; X12 RFI #591.
    """

    severity = Severity.REJECT
    fix = FixAvailability.SOMETIMES
    applies_to_void = True

    needs = Need.NDC_LOOP

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report a CTP05-1 outside F2, GR, ME, ML and UN, with the known respellings."""
        for line in claim.lines:
            if line.drug is None or line.drug.ctp is None:
                continue
            ctp = line.drug.ctp
            unit = line.drug.unit
            if unit in NDC_UNITS:
                continue
            if not unit:
                yield ctx.report(
                    self,
                    "CTP05-1 is empty; give the NDC unit (F2, GR, ME, ML or UN).",
                    ctp,
                    "CTP05-1",
                    line=line,
                )
                continue
            fix: Fix | None = None
            replacement: str | None = None
            # MG/GM/IU (and a valid code in lower case) mean one 837P code: safe. EA is a
            # T-MSIS code whose "each" may not be the 837P UN of the package: unsafe.
            mapped = ctx.refdata.ndc_unit_fix(unit)
            if mapped is not None:
                replacement, safety = mapped
                applicability = Applicability.SAFE if safety == "safe" else Applicability.UNSAFE
                description = f"Change the NDC unit {unit} to {replacement}"
                package = _directory_package(line, ctx)
                misfit = unit_misfit(
                    line, replacement, package, _form_kind(line, package, ctx), ctx
                )
                if misfit is not None:
                    # MG means ME, but a solution is measured in ML: writing ME would only
                    # trade this finding for CTP-004's, and ML needs CTP04 restated.
                    applicability = Applicability.UNSAFE
                    description += (
                        f" (unsafe: {line.code} {misfit[1]}, so CTP-004 would then ask for "
                        f"{misfit[0] or 'another unit'} with CTP04 restated)"
                    )
                fix = replace_fix(ctp, "CTP05-1", replacement, description, applicability)
            advice = f"use {replacement}" if replacement else "use F2, GR, ME, ML or UN"
            yield ctx.report(
                self,
                f"CTP05-1 {unit} is not an 837P NDC unit code; {advice}.",
                ctp,
                "CTP05-1",
                line=line,
                fix=fix,
            )


def _liquid_strength(package: NdcPackage | None) -> tuple[str, Decimal] | None:
    """The FDA strength of a single-ingredient liquid as (MG or UNITS, amount per mL)."""
    if package is None or not package.strength or ";" in package.strength:
        return None
    match = _LIQUID_STRENGTH.match(package.strength)
    if match is None:
        return None
    unit = _STRENGTH_UNIT.get(match.group(2).upper())
    if unit is None:
        return None
    volume = Decimal(match.group(3)) if match.group(3) else Decimal(1)
    if volume <= 0:
        return None
    return unit[0], Decimal(match.group(1)) * unit[1] / volume


def billing_unit(
    code: str, row: CrosswalkRow | None, ctx: CheckContext
) -> tuple[Decimal, str] | None:
    """The dose one HCPCS billing unit covers, as (quantity, unit): ``(15, "MG")`` for J1885.

    Taken from the shipped injectable-drug table, else from the crosswalk's HCPCS dosage
    (``10 MG``). None for NOC codes, "up to" codes and codes neither source knows.
    """
    drug = ctx.refdata.drug(code)
    if drug is not None:
        if not drug.has_billing_unit or drug.up_to or drug.unit_quantity <= 0:
            return None
        return drug.unit_quantity, drug.unit
    match = _CROSSWALK_DOSAGE.match(row.dosage) if row is not None else None
    if match is None:
        return None
    quantity = Decimal(match.group(1))
    unit = _CROSSWALK_UNITS.get(match.group(2).upper())
    if unit is None or quantity <= 0:
        return None
    return quantity, unit


def billing_units_per_ndc_unit(
    ndc_unit: str,
    dose: tuple[Decimal, str],
    row: CrosswalkRow | None,
    package: NdcPackage | None,
    form: str | None,
) -> list[Decimal]:
    """The HCPCS billing units one NDC unit (one ML, one UN, one ME ...) can stand for.

    Several readings are returned where the data allow more than one (``UN`` may count
    packages or the crosswalk's package-size units); the caller accepts CTP04 when any reading
    fits. Empty when nothing can be said.
    """
    ratios: list[Decimal] = []
    dose_quantity, dose_unit = dose
    direct = _DOSE_PER_NDC_UNIT.get(ndc_unit, {}).get(dose_unit)
    if direct is not None:
        ratios.append(direct / dose_quantity)
    if row is not None and row.billable_units and row.package_size and row.billable_units > 0:
        size = row.package_size
        # The crosswalk's package size is in mL for liquids and in pieces for the rest; a
        # powder reported in mL (after reconstitution) has no reading here.
        if ndc_unit == "ML" and form != "solid":
            ratios.append(row.billable_units / size)
        if ndc_unit == "UN":
            ratios.append(row.billable_units)
            ratios.append(row.billable_units / size)
    if ndc_unit == "ML" and form != "solid":
        strength = _liquid_strength(package)
        measure = _HCPCS_DOSE_IN.get(dose_unit)
        if strength is not None and measure is not None and strength[0] == measure[0]:
            ratios.append(strength[1] / (dose_quantity * measure[1]))
    return [r for r in dict.fromkeys(ratios) if r > 0]


@dataclass(frozen=True, slots=True)
class _UnitReading:
    """How CTP-003 reads one NDC unit of a line's product in the HCPCS code's billing units.

    Attributes:
        row: The crosswalk row of the NDC under the line's code, if any.
        dose: The dose one billing unit covers (:func:`billing_unit`).
        ratios: The billing units one NDC unit can stand for
            (:func:`billing_units_per_ndc_unit`), never empty.
        near_one: One of the ratios is close enough to 1 that CTP04 = SV104 is plausible.
    """

    row: CrosswalkRow | None
    dose: tuple[Decimal, str]
    ratios: tuple[Decimal, ...]
    near_one: bool


# The reading depends only on the line's code, its LIN (present, LIN02, LIN03), CTP05-1 and
# the reference data, and a file repeats a few hundred such combinations on thousands of drug
# lines, so each is worked out once per reference data (emptied past a bound).
_ReadingKey: TypeAlias = tuple[str, bool, str, str, str]


def _unit_reading(line: ServiceLine, ctx: CheckContext) -> _UnitReading | None:
    """The unit reading of a drug line with a 2410, or None when the data cannot tell."""
    drug = line.drug
    assert drug is not None
    key = (line.code, drug.lin is None, drug.qualifier, drug.ndc, drug.unit)
    memo: dict[_ReadingKey, _UnitReading | None] = ctx.refdata.rule_memos.setdefault(
        "CTP-003 unit readings", {}
    )
    if key in memo:
        return memo[key]
    ndc = line_ndc(line, ctx)
    rows = [r for r in crosswalk_rows(ndc, ctx) if r.hcpcs == line.code] if ndc else []
    row = rows[0] if rows else None
    reading = None
    dose = billing_unit(line.code, row, ctx)
    if dose is not None:
        package = ndc_package_of(ndc, ctx)
        form = _form_kind(line, package, ctx)
        ratios = billing_units_per_ndc_unit(drug.unit, dose, row, package, form)
        if ratios:
            near_one = any(max(r, 1 / r) < _NEAR_ONE for r in ratios)
            reading = _UnitReading(row, dose, tuple(ratios), near_one)
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = reading
    return reading


class CTP003(Rule):
    """CTP04 counts NDC units in CTP05-1, not HCPCS billing units.

    What it does:
        Compares the NDC quantity with the HCPCS units billed. From the HCPCS descriptor
        (e.g. J1885 "per 15 mg"), the ASP crosswalk (billable units per package and package
        size) and the FDA strength (``30 mg/mL``) it works out how many billing units one NDC
        unit holds, and reports the line when:

        * CTP04 merely copies SV104 although one NDC unit is clearly not one billing unit
          (J1885 2 units with ``CTP****2*ML`` of a 30 mg/mL vial: 2 mL would be 60 mg); or
        * with a crosswalk row for the NDC and code, CTP04 and SV104 disagree by more than
          one package's billable units (more than rounding up or a partly used vial explains).

        Nothing is reported when the data cannot tell: NOC and "up to" codes, a unit that
        cannot be converted, a powder reported in mL. J1885 2 units with ``CTP****1*ML`` of
        a 30 mg/mL vial is right (1 mL = 30 mg = 2 units) and is not reported.

    Why it matters:
        Payers price the NDC quantity and edit it against the units billed; a quantity
        copied from SV104 over- or under-states the drug given, which leads to denials
        ("NDC quantity exceeded") or underpayment, and wrong Medicaid rebate invoices.

    Fix safety:
        A suggestion in words: the quantity that matches SV104 is named, but the amount
        actually given (and any discarded amount reported with JW) is for the biller to
        confirm.

    Example:
        ``SV1*HC:J1885*8*UN*2***1~`` with ``LIN**N4*00409379501~ CTP****2*ML~`` (30 mg/mL):
        CTP04 should be 1.

        When CTP05-1 is itself an amount in the measure of the HCPCS descriptor (``ME`` or
        ``GR`` for a code billed per mg, mcg or g; ``ML`` for one billed per mL; ``F2`` for one
        billed in units), no crosswalk is needed: SV104 must be the NDC amount in billing
        units, rounded up or down to a whole unit, and a disagreement is a deny-risk
        (40 units of J1885, 600 mg, against ``CTP****30*ME``).

    Sources:
        X12 RFI #591 (J-code 20 mg × 1 unit vs NDC 5 mg gives CTP04 = 4); CMS ASP
        NDC-HCPCS crosswalk "billable units"; Horizon NJ Health "NDC quantity exceeded".
    """

    severity = Severity.WARNING
    severity_when = {
        Severity.DENY_RISK: "when SV104 and CTP04 are amounts of one measure and disagree"
    }
    fix = FixAvailability.DISPLAY

    needs = Need.NDC_LOOP

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report an NDC quantity that clearly counts billing units instead of NDC units."""
        for line in claim.lines:
            finding = self._check_line(line, ctx)
            if finding is not None:
                yield finding

    def _check_line(self, line: ServiceLine, ctx: CheckContext) -> Finding | None:
        if line.drug is None or line.drug.ctp is None or line.unit_basis != "UN":
            return None
        quantity, units = line.drug.quantity, line.units
        if quantity is None or units is None or quantity <= 0 or units <= 0:
            return None
        copied = quantity == units
        if not copied:
            measured = self._check_measure(line, ctx)
            if not isinstance(measured, bool):
                return measured
        if not copied and ctx.refdata.crosswalk is None:
            return None  # only a copied SV104 can be judged without a crosswalk row
        reading = _unit_reading(line, ctx)
        if reading is None:
            return None
        row, dose, ratios = reading.row, reading.dose, reading.ratios
        if not copied and (row is None or row.billable_units is None):
            return None  # only a copied SV104 can be judged without the crosswalk row
        ndc_unit = line.drug.unit
        if copied:
            # Copying SV104 is right when one NDC unit is about one billing unit.
            if reading.near_one:
                return None
            if any(abs(quantity * r - units) < _ONE_UNIT for r in ratios):
                return None
            expected = units / ratios[0]
            return ctx.report(
                self,
                f"CTP04 {line.drug.quantity_text} {ndc_unit} copies SV104 ({line.units_text} "
                f"units of {line.code}, {_dose_text(dose)} each); in {ndc_unit} that dose is "
                f"about {_num(expected)}.",
                line.drug.ctp,
                "CTP04",
                line=line,
                fix=suggestion(
                    f"Report the quantity administered in {ndc_unit} (about {_num(expected)} "
                    f"for {line.units_text} units of {line.code})"
                ),
            )
        if row is None or row.billable_units is None:
            return None
        tolerance = max(row.billable_units, _ONE_UNIT)
        if any(abs(quantity * r - units) <= tolerance for r in ratios):
            return None
        implied = quantity * ratios[0]
        return ctx.report(
            self,
            f"CTP04 {line.drug.quantity_text} {ndc_unit} is about {_num(implied)} units of "
            f"{line.code} ({_dose_text(dose)} each) but SV104 bills {line.units_text}; check "
            "the NDC quantity and the units.",
            line.drug.ctp,
            "CTP04",
            line=line,
            fix=suggestion(
                f"Report in CTP04 the {ndc_unit} administered for {line.units_text} units "
                f"(about {_num(units / ratios[0])})"
            ),
        )

    def _check_measure(self, line: ServiceLine, ctx: CheckContext) -> Finding | None | bool:
        """Compare SV104 with CTP04 when both are amounts of one measure (mg, g, mL, units).

        ``False`` when they are not (the other readings decide), ``None`` when they agree,
        else the finding.
        The HCPCS dose of one billing unit comes from the shipped table, so no crosswalk is
        needed: 40 units of J1885 (15 mg each) are 600 mg, which ``CTP****30*ME`` is not.
        """
        drug = line.drug
        assert drug is not None and drug.quantity is not None and line.units is not None
        dose = billing_unit(line.code, None, ctx)
        if dose is None:
            return False
        per_ndc_unit = _DOSE_PER_NDC_UNIT.get(drug.unit, {}).get(dose[1])
        if per_ndc_unit is None:
            return False
        implied = drug.quantity * per_ndc_unit / dose[0]  # billing units the NDC amount is
        low, high = implied.to_integral_value(ROUND_FLOOR), implied.to_integral_value(ROUND_CEILING)
        units = line.units
        # A partial billing unit is rounded up (Medicare), or down by some payers: either fits.
        if low <= units <= high:
            return None  # agreed: nothing to report
        right = max(high, _ONE_UNIT)
        return ctx.report(
            self,
            f"SV104 bills {line.units_text} units of {line.code} ({_dose_text(dose)} each, "
            f"{_num(units * dose[0])} {dose[1].lower()} in all) but CTP04 reports "
            f"{drug.quantity_text} {drug.unit}, which is {_num(implied)} units; one of them is "
            "wrong.",
            drug.ctp,
            "CTP04",
            line=line,
            severity=Severity.DENY_RISK,
            fix=suggestion(
                f"If {drug.quantity_text} {drug.unit} was given, bill {_num(right)} units of "
                f"{line.code}; if {line.units_text} units were, restate CTP04 as "
                f"{_num(units / per_ndc_unit * dose[0])} {drug.unit}"
            ),
        )


class CTP004(Rule):
    """The NDC unit fits the product's dosage form.

    What it does:
        Takes the dosage form from the loaded FDA NDC Directory (else the usual form of the
        HCPCS code) and reports clear mismatches: ML for a powder, tablet, kit or other
        product counted by the piece; GR or ME for a solution or suspension; F2 for a product
        whose strength is not in units; and a fractional quantity in UN (``CTP****0.5*UN``),
        since UN counts whole packages or pieces, naming the unit that fits (ML for a liquid,
        ME or GR for a solid).

    Why it matters:
        Payers convert the NDC quantity with the unit: a vial of powder in mL or a solution
        in grams cannot be priced against the package, which leads to denials or wrong
        payment and wrong Medicaid rebate invoices.

    Fix safety:
        A suggestion in words: the unit that fits is named, but CTP04 must be restated in it,
        which only the biller can do.

    Example:
        ``CTP****10*ML~`` for ceftriaxone 1 g powder for solution: report ``CTP****1*UN~``.

    Sources:
        X12 RFI #591 (ML for liquids, GR for grams, F2 for international units, UN for
        each).
    """

    severity = Severity.WARNING
    fix = FixAvailability.DISPLAY

    needs = Need.NDC_LOOP

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report an NDC unit that does not fit the product's dosage form."""
        for line in claim.lines:
            if line.drug is None or line.drug.ctp is None:
                continue
            unit = line.drug.unit
            if unit not in NDC_UNITS:
                continue  # R-CTP-002
            package = _directory_package(line, ctx)
            form = _form_kind(line, package, ctx)
            quantity = line.drug.quantity
            if unit == "UN" and quantity is not None and quantity != quantity.to_integral_value():
                # UN counts whole packages or pieces; half a vial is a measured amount.
                fits = {"liquid": "ML", "solid": "ME or GR"}.get(form or "", "ML, ME or GR")
                yield ctx.report(
                    self,
                    f"CTP04 {line.drug.quantity_text} UN is a fraction, but UN counts whole "
                    f"packages or pieces; report the amount given in {fits} and restate CTP04.",
                    line.drug.ctp,
                    "CTP05-1",
                    line=line,
                    fix=suggestion(
                        f"Report the NDC quantity in {fits} (the measure the amount given was "
                        "drawn in) and restate CTP04 in that unit"
                    ),
                )
                continue
            misfit = unit_misfit(line, unit, package, form, ctx)
            if misfit is None:
                continue
            wanted, reason = misfit
            what = (
                package.dosage_form.lower()
                if package is not None and package.dosage_form
                else f"{line.code}"
            )
            advice = f"report it in {wanted}" if wanted else "report it in the package's unit"
            yield ctx.report(
                self,
                f"CTP05-1 {unit} does not fit the product: {what} {reason}; {advice} and "
                "restate CTP04.",
                line.drug.ctp,
                "CTP05-1",
                line=line,
                fix=suggestion(
                    f"Report the NDC quantity in {wanted or 'the unit of the package'} and "
                    "restate CTP04 in that unit"
                ),
            )
