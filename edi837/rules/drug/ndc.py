"""NDC rules: the 2410 NDC is where it belongs, well formed, real, marketed and billable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import TypeAlias, cast

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity
from edi837.refdata import ReferenceData
from edi837.refdata.ndc import is_ndc11, is_placeholder, normalize_hyphenated
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
    replace_fix,
    suggestion,
)
from edi837.rules.drug.common import crosswalk_rows, intends_n4, line_ndc, normalize_ndc
from edi837.rules.lines import INJECTION
from edi837.rules.needs import Need
from edi837.rules.profiles import Profile
from edi837.rules.registry import matches
from edi837.rules.settings import Settings
from edi837.x837p.model import Claim, ServiceLine

#: LIN02 codes the 005010X222A1 TR3 allows in loop 2410; only N4 is an NDC (5-4-2).
LIN_QUALIFIERS = frozenset({"EN", "EO", "HI", "N4", "ON", "UK", "UP"})


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

    needs = Need.NDC_ON_INJECTION

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


def runs(code: str, ctx: CheckContext) -> bool:
    """Whether the settings select the rule ``code`` (so that a more general rule can defer)."""
    select, ignore = ctx.settings.select, ctx.settings.ignore
    chosen = select is None or any(matches(code, pattern) for pattern in select)
    return chosen and not any(matches(code, pattern) for pattern in ignore)


class NDC002(Rule):
    """A drug line carries an NDC (loop 2410) where the payer profile requires one.

    What it does:
        Reports a drug line (J- or Q-code, S-code for commercial payers, immune globulin, or a
        code of the injectable-drug table) without a loop 2410, when the profile's NDC policy
        asks for it: ``all`` (every drug line), ``noc`` (NOC/unlisted codes only) or ``none``.
        A NOC line without an NDC is left to NOC-001, which reports the same fault more
        specifically, unless NOC-001 is not selected.

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

    needs = Need.DRUG_WITHOUT_NDC

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Only under a profile whose NDC policy asks for NDCs."""
        return settings.ndc_policy.get(profile, "none") != "none"

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report drug lines without a 2410 where the profile's NDC policy wants one."""
        policy = ctx.settings.ndc_policy.get(ctx.profile, "none")
        if policy == "none":
            return
        noc_rule_runs = runs("NOC-001", ctx)
        for line in ctx.drug_lines:
            if line.drug is not None or line.sv1 is None:
                continue
            noc = ctx.is_noc(line.code)
            if policy == "noc" and not noc:
                continue
            if noc and noc_rule_runs:
                continue  # NOC-001 reports the missing NDC of a NOC line, more specifically
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
    severity_when = {Severity.DENY_RISK: "for another TR3 LIN02 qualifier on a drug line"}
    fix = FixAvailability.SOMETIMES
    applies_to_void = True

    needs = Need.NDC_LOOP

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
    applies_to_void = True

    needs = Need.NDC_LOOP

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
    applies_to_void = True

    needs = Need.NDC_LOOP

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

    needs = Need.NDC_LOOP

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Only with the FDA NDC Directory loaded."""
        return refdata.ndc_directory is not None

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

    needs = Need.NDC_LOOP

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Only with the ASP NDC-HCPCS crosswalk loaded."""
        return refdata.crosswalk is not None

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
            rows = crosswalk_rows(ndc, ctx)
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

    needs = Need.NDC_LOOP

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Medicaid only."""
        return profile is Profile.MEDICAID

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
