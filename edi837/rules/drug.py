"""The drug family: NDC, CTP, REF, drug-unit and NOC rules of the drug line (catalogue §3).

A drug line is a 2400 whose SV101-2 is a drug or biological (``CheckContext.is_drug_line``);
its loop 2410 identifies the product: LIN02 ``N4`` with the 11-digit NDC in LIN03, CTP04 the
quantity in NDC units and CTP05-1 the unit, and an optional REF (``XZ`` prescription number or
``VY`` link sequence). These rules check that the NDC is where it belongs, well formed, real,
marketed and billable under the line's HCPCS code; that the NDC quantity is an X12 decimal in
an 837P unit that fits the product; and that NOC drug lines say what was given.

Every lookup goes through :class:`~edi837.refdata.ReferenceData`. When an official table (FDA
NDC Directory, ASP NDC-HCPCS crosswalk, MDRP rebate labelers) is not loaded, the rules that
need it stay silent: a code missing from a partial table is unknown, not invalid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, cast
from weakref import WeakKeyDictionary

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity
from edi837.refdata.model import CrosswalkRow, NdcPackage
from edi837.refdata.ndc import is_ndc11, is_placeholder, normalize_hyphenated
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Profile,
    Rule,
    replace_fix,
    suggestion,
)
from edi837.rules.lines import INJECTION
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, ServiceLine, parse_decimal

if TYPE_CHECKING:
    from edi837.refdata import ReferenceData

#: LIN02 codes the 005010X222A1 TR3 allows in loop 2410; only N4 is an NDC (5-4-2).
LIN_QUALIFIERS = frozenset({"EN", "EO", "HI", "N4", "ON", "UK", "UP"})

#: CTP05-1 codes the TR3 allows: international unit, gram, milligram, milliliter, unit.
NDC_UNITS = frozenset({"F2", "GR", "ME", "ML", "UN"})

#: REF01 qualifiers of the 2410 REF: link sequence number (compounds), prescription number.
DRUG_REF_QUALIFIERS = frozenset({"VY", "XZ"})

# Spellings of the NDC qualifier that can only mean N4 ("n4", "N 4", "N-4", "NDC").
_N4_SPELLINGS = frozenset({"N4", "NDC"})
_N4_NOISE = re.compile(r"[\s.\-_]")

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
_UNIT_STRENGTH = re.compile(r"\[IU\]|\[USP'U\]|\bU\b|UNIT", re.IGNORECASE)

# A billing-unit ratio this close to 1 makes CTP04 = SV104 plausible (salt vs base strengths).
_NEAR_ONE = Decimal("1.25")
_ONE_UNIT = Decimal(1)

# Charges that mean "no charge": a free sample or a donated drug (R-DRG-002).
_NO_CHARGE = (Decimal("0"), Decimal("0.01"))


# --- helpers ---------------------------------------------------------------------------------


def intends_n4(qualifier: str) -> bool:
    """True when LIN02 is ``N4`` or a spelling that can only mean it (``n4``, ``N 4``, ``NDC``)."""
    if qualifier == "N4":
        return True
    return _N4_NOISE.sub("", qualifier).upper() in _N4_SPELLINGS


def normalize_ndc(text: str, refdata: ReferenceData) -> tuple[str | None, str]:
    """LIN03 as an 11-digit NDC, and how it was reached (catalogue R-NDC-005).

    Returns ``(ndc11, how)`` where ``how`` is ``""`` when LIN03 already is 11 digits,
    ``"format"`` when its separators say which segment to pad, and ``"directory"`` when it is a
    bare 10-digit number of which exactly one padding is in the FDA NDC Directory. ``ndc11`` is
    None when no safe conversion exists.
    """
    ndc = normalize_hyphenated(text)
    if ndc is not None:
        return ndc, "" if ndc == text else "format"
    digits = text.strip()
    if len(digits) == 10 and digits.isascii() and digits.isdecimal():
        found = list(refdata.ndc_candidates_from_10(digits))
        if len(found) == 1:
            return found[0], "directory"
    return None, ""


def line_ndc(line: ServiceLine, ctx: CheckContext) -> str | None:
    """The line's NDC as 11 digits for table lookups, or None (no N4 NDC, unusable, placeholder)."""
    drug = line.drug
    if drug is None or drug.lin is None or not intends_n4(drug.qualifier):
        return None
    ndc, _ = normalize_ndc(drug.ndc, ctx.refdata)
    if ndc is None or is_placeholder(ndc):
        return None
    return ndc


def _crosswalk_rows(ndc11: str, ctx: CheckContext) -> list[CrosswalkRow]:
    return list(ctx.refdata.crosswalk_for_ndc(ndc11) or ())


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


def _package(ndc11: str | None, ctx: CheckContext) -> NdcPackage | None:
    return ctx.refdata.ndc_package(ndc11) if ndc11 else None


def _move_2410_fix(source: ServiceLine, target: ServiceLine) -> Fix:
    """Edits that move the 2410 of ``source`` to the end of ``target``'s 2400 (before any 2420x)."""
    assert source.drug is not None
    moved = source.drug.loop.segments
    anchor = target.loop.segments[-1]
    edits = [Edit(EditKind.DELETE, seg.number, None, seg.text, None) for seg in moved]
    edits.extend(Edit(EditKind.INSERT_AFTER, anchor.number, None, None, seg.text) for seg in moved)
    return Fix(
        Applicability.UNSAFE,
        f"Move the 2410 (LIN/CTP) from the 96372 line {source.number} to the {target.code} "
        f"line {target.number}",
        tuple(edits),
    )


# --- NDC --------------------------------------------------------------------------------------


class NDC001(Rule):
    """The NDC belongs on the drug line's 2410, not on the 96372 administration line.

    What it does:
        Reports a 96372 line that carries a loop 2410 (LIN/CTP). CPT 96372 is the injection
        service; the NDC identifies the product, which is billed on its own HCPCS drug line.

    Why it matters:
        An NDC reported against an administration code cannot be matched to a drug: the drug
        line looks NDC-less (CO-16 with RARC M119 on Medicaid and NOC lines), and some payers
        reject a 2410 on a procedure that is not a drug.

    Fix safety:
        Unsafe. When exactly one drug line of the same service date has no 2410, the fix
        moves the whole 2410 (LIN, CTP and any REF) to the end of that line's 2400 loop,
        before its 2420x loops. Whether that NDC really is the product of that HCPCS code is
        for the biller to confirm, so the fix is applied only with ``--unsafe-fixes``.
        Otherwise the rule suggests the move in words.

    Example:
        ``SV1*HC:96372*35*UN*1***1~ … LIN**N4*00409379501~ CTP****1*ML~`` followed by
        ``SV1*HC:J1885*8*UN*2***1~`` with no 2410: the LIN and CTP move under the J1885 line.

    Sources:
        CPT: 96372 is the administration; X12 RFI #1664 (the NDC attaches to its procedure
        line).
    """

    severity = Severity.WARNING
    fix = FixAvailability.UNSAFE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report each 96372 line that carries a 2410, with the move when it is determined."""
        for line in ctx.injections:
            if line.drug is None:
                continue
            lin = line.drug.lin
            anchor = lin if lin is not None else line.drug.loop.segments[0]
            same_day = [
                other
                for other in claim.lines
                if other is not line
                and other.service_date_text == line.service_date_text
                and ctx.is_drug_line(other)
            ]
            without = [other for other in same_day if other.drug is None]
            ndc = line.drug.ndc or "(empty)"
            if len(without) == 1:
                target = without[0]
                fix = _move_2410_fix(line, target)
                message = (
                    f"NDC {ndc} is reported on the 96372 line; move its 2410 to the "
                    f"{target.code} drug line {target.number}."
                )
            else:
                fix = suggestion(
                    "Delete the 2410 from the 96372 line and report the NDC on the drug line "
                    "it identifies"
                )
                message = (
                    f"NDC {ndc} is reported on the 96372 line; report it in the 2410 of the "
                    "drug line it identifies."
                )
            yield ctx.report(
                self, message, anchor, "LIN03" if lin is not None else None, line=line, fix=fix
            )


class NDC002(Rule):
    """A drug line carries an NDC (loop 2410) where the payer profile requires one.

    What it does:
        Reports a drug line (J- or Q-code, S-code for commercial payers, immune globulin, or a
        code of the injectable-drug table) without a loop 2410, when the profile's NDC policy
        asks for it: ``all`` (every drug line), ``noc`` (NOC/unlisted codes only) or ``none``.

    Why it matters:
        Medicaid must collect NDCs for physician-administered drugs to invoice manufacturer
        rebates (DRA 2005 §6002; 42 CFR 447.520), and states reject drug lines without one.
        Many commercial plans deny NDC-less drug lines; Medicare Part B needs the NDC on NOC
        codes. Denials come back as CO-16 with RARC M119.

    Fix safety:
        No fix. The NDC must come from the package that was administered.

    Example:
        Under Medicaid, ``SV1*HC:J1885:JZ*8*UN*2***1~`` with no ``LIN**N4*…`` after it.

    Sources:
        DRA 2005 §6002 (SSA §1927(a)(7)); 42 CFR 447.520; CMS SMDL 06-016; Medicaid.gov
        Physician Administered Drugs page; Horizon NJ Health J/Q page; Mountain Health Co-Op
        notice; BCBSTX (NDC only for NOC).

    Options:
        ``[ndc_policy]`` sets the policy per profile (defaults: medicaid ``all``, medicare
        ``noc``, commercial ``noc``). Severity is reject under medicaid, deny-risk under
        commercial and warning under medicare.
    """

    severity = Severity.WARNING
    severity_by_profile = {
        Profile.MEDICAID: Severity.REJECT,
        Profile.COMMERCIAL: Severity.DENY_RISK,
        Profile.MEDICARE: Severity.WARNING,
    }
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report drug lines without a 2410 where the profile's NDC policy wants one."""
        policy = ctx.settings.ndc_policy.get(ctx.profile, "none")
        if policy == "none":
            return
        for line in ctx.drug_lines:
            if line.drug is not None or line.sv1 is None:
                continue
            noc = ctx.is_noc(line.code)
            if policy == "noc" and not noc:
                continue
            which = "NOC drug lines" if policy == "noc" else "every drug line"
            yield ctx.report(
                self,
                f"Drug line {line.code} has no NDC; the {ctx.profile.value} profile requires "
                f"one on {which}: add a 2410 with LIN**N4 and CTP.",
                line.sv1,
                "SV101-2",
                line=line,
            )


class NDC003(Rule):
    """LIN02 is ``N4`` when LIN03 is an NDC; other TR3 qualifiers are not NDCs.

    What it does:
        Reports a LIN02 outside the TR3 code list (EN, EO, HI, N4, ON, UK, UP) as a reject,
        and on a drug line a TR3 code other than ``N4`` as a deny-risk: a UPC, EAN, HIBCC or
        customer number identifies a product but is not the NDC payers price drugs by.

    Why it matters:
        A code outside the list fails the front-end syntax edit (999/277CA reject). With a
        non-NDC qualifier the payer finds no NDC on the drug line: Medicaid and NOC lines deny
        as CO-16/M119.

    Fix safety:
        Safe when LIN02 is empty or a misspelling that can only mean N4 (``n4``, ``N 4``,
        ``NDC``) and LIN03 converts to an 11-digit NDC as R-NDC-005 allows: LIN02 becomes
        ``N4``. No fix for another real qualifier: a UPC is not an NDC.

    Example:
        ``LIN**n4*00409379501~`` becomes ``LIN**N4*00409379501~``.

    Sources:
        pyx12 837P map (LIN02 code list); X12 RFI #2151.
    """

    severity = Severity.REJECT
    fix = FixAvailability.SOMETIMES

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report a LIN02 outside the TR3 list, or other than N4 on a drug line."""
        for line in claim.lines:
            if line.drug is None or line.drug.lin is None:
                continue
            lin = line.drug.lin
            qualifier = lin.element(2)
            if qualifier == "N4":
                continue
            if qualifier in LIN_QUALIFIERS:
                if ctx.is_drug_line(line):
                    yield ctx.report(
                        self,
                        f"LIN02 {qualifier} on drug line {line.code} is not the NDC qualifier; "
                        "report the NDC of the package with LIN02 N4.",
                        lin,
                        "LIN02",
                        line=line,
                        severity=Severity.DENY_RISK,
                    )
                continue
            fix = None
            if not qualifier or intends_n4(qualifier):
                ndc, _ = normalize_ndc(lin.element(3), ctx.refdata)
                if ndc is not None:
                    fix = replace_fix(lin, "LIN02", "N4", "Set the NDC qualifier LIN02 to N4")
            shown_q = f"'{qualifier}'" if qualifier else "empty"
            yield ctx.report(
                self,
                f"LIN02 is {shown_q}, not a TR3 product qualifier; an NDC in LIN03 needs LIN02 N4.",
                lin,
                "LIN02",
                line=line,
                fix=fix,
            )


class NDC004(Rule):
    """With qualifier N4, LIN03 is exactly 11 digits (5-4-2) with no hyphens or spaces.

    What it does:
        Reports an N4 NDC in LIN03 that is not 11 digits. The fix normalises it as catalogue
        rule R-NDC-005 describes.

    Why it matters:
        The HIPAA 837P carries the NDC as 11 digits; clearinghouses reject other forms
        ("Invalid NDC format") and payers cannot match a 10-digit or hyphenated NDC to their
        rebate and pricing files (CO-16/M119).

    Fix safety:
        R-NDC-005, fix class sometimes. Safe when the printed form says which segment is
        short: separators are dropped from a hyphenated 5-4-2, a 4-4-2 gets a leading 0, a
        5-3-2 a 0 in front of the product code, a 5-4-1 a 0 in front of the package code;
        single spaces count as hyphens, and a label's ``*`` placeholder at the start of a
        segment becomes that padding 0. A bare 10-digit number can be padded three ways, so it
        is fixed only when exactly one of the three readings is in the loaded FDA NDC Directory;
        without the directory, or with several matches, there is no fix. Anything else is
        reported without a fix.

    Example:
        ``LIN**N4*00409-3795-01~`` becomes ``LIN**N4*00409379501~``;
        ``LIN**N4*0409-3795-01~`` becomes ``LIN**N4*00409379501~``.

    Sources:
        X12 RFI #2151; Stedi "Invalid NDC format" edit; CMS/MAC NDC conversion tables
        (daisyBill KB, Kareo help); BCBSTX NDC note (asterisk placeholder).
    """

    severity = Severity.REJECT
    fix = FixAvailability.SOMETIMES

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report an N4 LIN03 that is not 11 digits, with the R-NDC-005 conversion."""
        for line in claim.lines:
            drug = line.drug
            if drug is None or drug.lin is None:
                continue
            lin = drug.lin
            text = drug.ndc
            if is_ndc11(text) or not intends_n4(drug.qualifier):
                continue
            ndc, how = normalize_ndc(text, ctx.refdata)
            digits = text.strip()
            if ndc is not None:
                where = (
                    "the FDA NDC Directory lists one 11-digit reading"
                    if how == "directory"
                    else "write it as 11 digits"
                )
                yield ctx.report(
                    self,
                    f"NDC {text!r} is not in the 11-digit 5-4-2 form; {where}: {ndc}.",
                    lin,
                    "LIN03",
                    line=line,
                    fix=replace_fix(lin, "LIN03", ndc, f"Write the NDC as 11 digits ({ndc})"),
                )
            elif len(digits) == 10 and digits.isdecimal():
                yield ctx.report(
                    self,
                    f"NDC {text} has 10 digits and can be padded to 11 in three ways; copy the "
                    "11-digit NDC from the package (5-4-2).",
                    lin,
                    "LIN03",
                    line=line,
                )
            else:
                shown_text = repr(text) if text else "empty"
                yield ctx.report(
                    self,
                    f"NDC {shown_text} is not an 11-digit NDC; LIN03 with N4 takes the 5-4-2 "
                    "NDC as 11 digits.",
                    lin,
                    "LIN03",
                    line=line,
                )


class NDC006(Rule):
    """The NDC is not a placeholder (all 9s, 99999999992-99999999996, all zeros).

    What it does:
        Reports an N4 NDC that, as 11 digits, is one of the filler values systems use when
        the real NDC was not captured.

    Why it matters:
        CMS and payers reject these values: they identify no product, so the line has no
        usable NDC (CO-16/M119) and Medicaid cannot invoice a rebate.

    Fix safety:
        No fix. The NDC must come from the package that was administered.

    Example:
        ``LIN**N4*99999999999~``.

    Sources:
        ResDAC PDE product-service-ID note (CMS rejects these values).
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report an N4 NDC that is a filler value."""
        for line in claim.lines:
            drug = line.drug
            if drug is None or drug.lin is None:
                continue
            lin = drug.lin
            if not intends_n4(drug.qualifier):
                continue
            ndc = normalize_hyphenated(drug.ndc)
            if ndc is not None and is_placeholder(ndc):
                yield ctx.report(
                    self,
                    f"NDC {lin.element(3)} is a placeholder, not a product; report the NDC of "
                    "the package administered.",
                    lin,
                    "LIN03",
                    line=line,
                )


class NDC007(Rule):
    """The NDC is in the FDA NDC Directory and was marketed on the service date.

    What it does:
        Looks the line's 11-digit NDC up in the loaded FDA NDC Directory (product and package
        files, plus the excluded and unfinished lists when present) and reports it when it is
        not listed, or when DTP*472 falls outside the package's marketing start and end
        dates. Silent when no directory is loaded.

    Why it matters:
        Clearinghouses reject unrecognised or inactive NDCs, and payers deny them with CO-16
        and RARC M119 (invalid, deactivated or withdrawn NDC). An NDC not yet or no longer
        marketed on the date of service is usually a typo or an old label.

    Fix safety:
        No fix. The NDC must come from the package that was administered.

    Example:
        ``LIN**N4*00409379501~`` with ``DTP*472*D8*20250314~`` when the package's marketing
        ended on 2024-12-31.

    Sources:
        Stedi "Unrecognized or inactive NDC" edit; RARC M119.

    Options:
        The severity is deny-risk; a clearinghouse that rejects unknown NDCs at the front
        end can raise it with ``[severity] "NDC-007" = "reject"``. The directory comes from
        the ``refdata`` folder.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report an NDC the loaded FDA directory does not show as marketed on the date."""
        if ctx.refdata.ndc_directory is None:
            return  # nothing is known about any NDC
        for line in claim.lines:
            ndc = line_ndc(line, ctx)
            dos = line.service_date
            if ndc is None or dos is None or line.drug is None or line.drug.lin is None:
                continue
            marketed = ctx.refdata.ndc_marketed_on(ndc, dos)
            if marketed is None or marketed:
                continue
            package = ctx.refdata.ndc_package(ndc)
            if package is None:
                message = (
                    f"NDC {ndc} is not in the loaded FDA NDC Directory; check the NDC on the "
                    "package."
                )
            elif package.start is not None and dos < package.start:
                message = (
                    f"NDC {ndc} was not marketed until {package.start.isoformat()}, after "
                    f"the service date {dos.isoformat()}; check the NDC on the package."
                )
            elif package.end is not None:
                message = (
                    f"NDC {ndc} was marketed until {package.end.isoformat()}, before the "
                    f"service date {dos.isoformat()}; check the NDC on the package."
                )
            else:
                message = (
                    f"NDC {ndc} was not marketed on {dos.isoformat()} per the FDA NDC "
                    "Directory; check the NDC on the package."
                )
            yield ctx.report(self, message, line.drug.lin, "LIN03", line=line)


class NDC008(Rule):
    """The NDC maps to the line's HCPCS code in the ASP NDC-HCPCS crosswalk.

    What it does:
        Looks the line's NDC up in the loaded CMS ASP NDC-HCPCS crosswalk and reports a drug
        line whose SV101-2 is not one of the codes the crosswalk lists for it. An NDC the
        crosswalk does not list is not reported (the crosswalk covers ASP-priced Part B drugs
        only), NOC codes are left to R-NOC-002, and the rule is silent without a crosswalk.

    Why it matters:
        Payers edit the NDC against the HCPCS code: an NDC of another drug, strength or
        biosimilar than the code billed is denied (CO-16/M119 or CO-4), and Medicaid cannot
        invoice the rebate.

    Fix safety:
        No automatic fix. When the crosswalk maps the NDC to exactly one HCPCS code, that code
        is suggested in words; changing the code also changes the billing unit (SV104) and the
        charge, which the biller must set.

    Example:
        ``SV1*HC:J1030*…`` with ``LIN**N4*00409379501~`` (a ketorolac NDC that the
        crosswalk maps to J1885).

    Sources:
        CMS ASP NDC-HCPCS crosswalk (quarterly; NDC, HCPCS, billable units per package).

    Options:
        The crosswalk is read from the ``refdata`` folder; a state Medicaid crosswalk is not
        read yet.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report an NDC the loaded crosswalk maps to other codes than SV101-2."""
        if ctx.refdata.crosswalk is None:
            return  # no NDC is in a crosswalk
        for line in claim.lines:
            if line.code == INJECTION or ctx.is_noc(line.code) or line.drug is None:
                continue
            ndc = line_ndc(line, ctx)
            if ndc is None or line.drug.lin is None:
                continue
            rows = _crosswalk_rows(ndc, ctx)
            if not rows:
                continue
            codes = sorted({row.hcpcs for row in rows})
            if line.code in codes:
                continue
            if not ctx.is_drug_line(line) and not ctx.refdata.crosswalk_for_hcpcs(line.code):
                continue
            listed = ", ".join(codes)
            fix = (
                suggestion(
                    f"Bill NDC {ndc} under {codes[0]} and set SV104 in its billing unit "
                    f"({rows[0].dosage})"
                )
                if len(codes) == 1
                else None
            )
            yield ctx.report(
                self,
                f"NDC {ndc} is crosswalked to {listed}, not to {line.code}; bill the NDC "
                "under its crosswalk code or report the NDC of the drug billed.",
                line.drug.lin,
                "LIN03",
                line=line,
                fix=fix,
            )


RebateLookup: TypeAlias = Callable[[str, date | None], bool | None]


def rebate_lookup(refdata: ReferenceData) -> RebateLookup | None:
    """The MDRP labeler lookup of the reference data, or None when it offers none.

    The lookup takes the 5-digit labeler code and the service date and answers True (the
    labeler had a Medicaid drug rebate agreement), False (the loaded MDRP list does not show
    one) or None (no MDRP list loaded).
    """
    lookup = getattr(refdata, "medicaid_rebate_labeler", None)
    return cast(RebateLookup, lookup) if callable(lookup) else None


class NDC009(Rule):
    """Medicaid: the NDC's labeler takes part in the Medicaid Drug Rebate Program.

    What it does:
        Under the medicaid profile, looks the labeler code (the first five digits of the
        11-digit NDC) up in the loaded list of labelers with a Medicaid drug rebate agreement
        and reports a labeler the list does not show on the service date. Silent when no
        MDRP list is loaded.

    Why it matters:
        Federal matching funds for outpatient drugs require the manufacturer's national
        rebate agreement (SSA §1927); states deny physician-administered drugs from labelers
        without one.

    Fix safety:
        No fix. A product from a labeler without a rebate agreement needs another product or
        prior authorisation from the state.

    Example:
        Under Medicaid, ``LIN**N4*12345678901~`` when labeler 12345 is not in the MDRP data.

    Sources:
        SSA §1927; state Medicaid rules (reimbursement only for drugs with a signed rebate
        agreement); CMS Medicaid Drug Rebate Program data (medicaid.gov).

    Options:
        The labeler list comes from the CMS quarterly "Drug Products in the Medicaid Drug
        Rebate Program" file (data.medicaid.gov; columns include Labeler Code/NDC1, Labeler
        Name and Termination Date) placed in the ``refdata`` folder; the reference data
        exposes it as ``medicaid_rebate_labeler(labeler, dos)``.
    """

    severity = Severity.DENY_RISK
    severity_by_profile = {Profile.MEDICAID: Severity.DENY_RISK}
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report, under Medicaid, an NDC whose labeler has no rebate agreement."""
        if ctx.profile is not Profile.MEDICAID:
            return
        lookup = rebate_lookup(ctx.refdata)
        if lookup is None:
            return
        for line in claim.lines:
            ndc = line_ndc(line, ctx)
            if ndc is None or line.drug is None or line.drug.lin is None:
                continue
            labeler = ndc[:5]
            if lookup(labeler, line.service_date) is False:
                yield ctx.report(
                    self,
                    f"Labeler {labeler} of NDC {ndc} has no Medicaid drug rebate "
                    "agreement in the loaded MDRP data; the state will deny the drug.",
                    line.drug.lin,
                    "LIN03",
                    line=line,
                )


# --- CTP ---------------------------------------------------------------------------------------


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
    fix = FixAvailability.SOMETIMES

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
        so check CTP04 too. Other values have no fix.

    Example:
        ``CTP****30*MG~`` becomes ``CTP****30*ME~``.

    Sources:
        pyx12 837P map (CTP05-1 code list); ResDAC/T-MSIS NDC unit codes; X12 RFI #591.
    """

    severity = Severity.REJECT
    fix = FixAvailability.SOMETIMES

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
                fix = replace_fix(
                    ctp,
                    "CTP05-1",
                    replacement,
                    f"Change the NDC unit {unit} to {replacement}",
                    applicability,
                )
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
_READINGS: WeakKeyDictionary[ReferenceData, dict[_ReadingKey, _UnitReading | None]] = (
    WeakKeyDictionary()
)


def _unit_reading(line: ServiceLine, ctx: CheckContext) -> _UnitReading | None:
    """The unit reading of a drug line with a 2410, or None when the data cannot tell."""
    drug = line.drug
    assert drug is not None
    key = (line.code, drug.lin is None, drug.qualifier, drug.ndc, drug.unit)
    memo = _READINGS.get(ctx.refdata)
    if memo is None:
        memo = _READINGS[ctx.refdata] = {}
    elif key in memo:
        return memo[key]
    ndc = line_ndc(line, ctx)
    rows = [r for r in _crosswalk_rows(ndc, ctx) if r.hcpcs == line.code] if ndc else []
    row = rows[0] if rows else None
    reading = None
    dose = billing_unit(line.code, row, ctx)
    if dose is not None:
        package = _package(ndc, ctx)
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

    Sources:
        X12 RFI #591 (J-code 20 mg × 1 unit vs NDC 5 mg gives CTP04 = 4); CMS ASP
        NDC-HCPCS crosswalk "billable units"; Horizon NJ Health "NDC quantity exceeded".
    """

    severity = Severity.WARNING
    fix = FixAvailability.DISPLAY

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


class CTP004(Rule):
    """The NDC unit fits the product's dosage form.

    What it does:
        Takes the dosage form from the loaded FDA NDC Directory (else the usual form of the
        HCPCS code) and reports clear mismatches: ML for a powder, tablet, kit or other
        product counted by the piece; GR or ME for a solution or suspension; F2 for a product
        whose strength is not in units.

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

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report an NDC unit that does not fit the product's dosage form."""
        for line in claim.lines:
            if line.drug is None or line.drug.ctp is None:
                continue
            unit = line.drug.unit
            if unit not in NDC_UNITS:
                continue  # R-CTP-002
            package = (
                _package(line_ndc(line, ctx), ctx)
                if ctx.refdata.ndc_directory is not None
                else None
            )
            form = _form_kind(line, package, ctx)
            wanted: str | None = None
            reason = ""
            if unit == "ML" and form == "solid":
                wanted, reason = "UN", "is counted by the piece"
            elif unit in ("GR", "ME") and form == "liquid":
                wanted, reason = "ML", "is a liquid measured by volume"
            elif unit == "F2" and not self._labelled_in_units(line, package, ctx):
                wanted = {"liquid": "ML", "solid": "UN"}.get(form or "")
                reason = "is not labelled in units"
                if wanted is None and package is None:
                    continue
            if not reason:
                continue
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

    @staticmethod
    def _labelled_in_units(
        line: ServiceLine, package: NdcPackage | None, ctx: CheckContext
    ) -> bool:
        """True when the product is dosed in units, or when nothing says otherwise."""
        if package is not None and package.strength:
            return bool(_UNIT_STRENGTH.search(package.strength))
        drug = ctx.refdata.drug(line.code)
        if drug is None or not drug.has_billing_unit:
            return True
        return drug.unit not in ("MG", "MCG", "G", "ML")


# --- REF ---------------------------------------------------------------------------------------


class REF001(Rule):
    """The 2410 REF is ``VY`` or ``XZ`` with a 1-50 character value; a VY links two lines or more.

    What it does:
        Reports a 2410 REF whose REF01 is not ``VY`` (link sequence number) or ``XZ``
        (pharmacy prescription number), or whose REF02 is empty or longer than 50 characters;
        and, as a warning, a VY link number that no other drug line of the claim carries.

    Why it matters:
        Other qualifiers and over-long values fail the TR3 front-end edit. VY ties together
        the ingredients of a compound drug, each on its own line; a VY on one line links
        nothing, which usually means an ingredient line is missing.

    Fix safety:
        No fix.

    Example:
        ``REF*6R*12345~`` in loop 2410 (6R belongs to 2400, not 2410).

    Sources:
        pyx12 837P map (2410 REF); LinuxForHealth x12 ``Loop2410RefSegment``.
    """

    severity = Severity.REJECT
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report bad 2410 REF qualifiers and values, and VY numbers on one line only."""
        links: dict[str, list[tuple[ServiceLine, Segment]]] = {}
        for line in claim.lines:
            if line.drug is None or line.drug.ref is None:
                continue  # no REF in this 2410
            for ref in line.drug.loop.all("REF"):
                qualifier, value = ref.element(1), ref.element(2)
                if qualifier not in DRUG_REF_QUALIFIERS:
                    yield ctx.report(
                        self,
                        f"REF01 {qualifier or '(empty)'} is not a 2410 qualifier; use VY (link "
                        "sequence number) or XZ (prescription number).",
                        ref,
                        "REF01",
                        line=line,
                    )
                    continue
                if not value or len(value) > 50:
                    yield ctx.report(
                        self,
                        f"REF02 of REF*{qualifier} must be 1 to 50 characters; it has "
                        f"{len(value)}.",
                        ref,
                        "REF02",
                        line=line,
                    )
                    continue
                if qualifier == "VY":
                    links.setdefault(value, []).append((line, ref))
        for value, found in links.items():
            if len({id(line) for line, _ in found}) > 1:
                continue
            line, ref = found[0]
            yield ctx.report(
                self,
                f"Link sequence number VY {value} appears on one line only; a compound's "
                "ingredients share it on two lines or more.",
                ref,
                "REF02",
                line=line,
                severity=Severity.WARNING,
            )


# --- drug units and charges ------------------------------------------------------------------


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
    fix = FixAvailability.NONE

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
    """A drug line charged $0.00 or $0.01 (a free sample) is reported only per payer policy.

    What it does:
        Reports a drug line whose SV102 is 0 or 0.01, the charges used for a free sample or a
        manufacturer-donated drug.

    Why it matters:
        A drug that cost the practice nothing is not billable incident-to; most payers want
        it left off, some want it reported at $0.00 or $0.01 for tracking. The wrong choice
        gets the line (or the administration) denied.

    Fix safety:
        No fix: whether to keep the line depends on the payer.

    Example:
        ``SV1*HC:J0897*0.01*UN*60***1~``.

    Sources:
        AAO injectable-drug guidance; Medicare Benefit Policy Manual (Pub 100-02) ch. 15
        incident-to (the drug must be an expense to the biller).
    """

    severity = Severity.WARNING
    fix = FixAvailability.NONE

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report drug lines charged $0.00 or $0.01."""
        for line in ctx.drug_lines:
            charge = line.charge
            if line.sv1 is None or charge is None:
                continue
            if charge in _NO_CHARGE:
                yield ctx.report(
                    self,
                    f"Drug line {line.code} is charged {line.sv1.element(2)}, a free sample; "
                    "report it only if the payer asks for sample drugs.",
                    line.sv1,
                    "SV102",
                    line=line,
                )


# --- NOC drugs ---------------------------------------------------------------------------------


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
        package = _package(ndc, ctx)
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

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report NOC drug lines whose NDC has a specific code in the crosswalk."""
        for line in ctx.noc_lines:
            ndc = line_ndc(line, ctx)
            if ndc is None:
                continue
            rows = _crosswalk_rows(ndc, ctx)
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
        Under the medicare profile, reports a NOC drug line whose SV104 is not 1.

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

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report, under Medicare, NOC drug lines billed with more than one unit."""
        if ctx.profile is not Profile.MEDICARE:
            return
        for line in ctx.noc_lines:
            assert line.sv1 is not None
            units = line.units
            if units is None or units <= 0 or units == 1:
                continue  # a missing or zero count is R-DRG-001's
            yield ctx.report(
                self,
                f"NOC drug line {line.code} bills {line.units_text} units; Medicare expects 1 "
                "unit with the dose in SV101-7.",
                line.sv1,
                "SV104",
                line=line,
            )


RULES: list[type[Rule]] = [
    NDC001,
    NDC002,
    NDC003,
    NDC004,
    NDC006,
    NDC007,
    NDC008,
    NDC009,
    CTP001,
    CTP002,
    CTP003,
    CTP004,
    REF001,
    DRG001,
    DRG002,
    NOC001,
    NOC002,
    NOC003,
]
