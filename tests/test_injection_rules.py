"""Injection-family rules that depend on official reference files (NCCI PTP, FDA NDC Directory).

The rule cases in ``tests/rule_cases`` run on the shipped tables only; these tests load a tiny
PTP file or NDC Directory written in the published layouts into a temporary folder and check
what changes when the table is there.
"""

from __future__ import annotations

from pathlib import Path

from edi837.engine import Engine
from edi837.findings import Finding
from edi837.refdata import load_reference
from edi837.rules.settings import Settings
from edi837.x12.reader import SegmentReader
from edi837.x837p.builder import UnitReader
from tests.rulecases import as_bytes, build_document

PTP_PREAMBLE = (
    "CPT only copyright 2025 American Medical Association.  All rights reserved.\t\t\t\t\t\t\r\n"
    "Column1/Column2 Edits\t\t\t\t\t\t\r\n"
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\r\n"
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t\r\n"
    "\t\t\t\t*=no data\t1=allowed\t\r\n"
    "\t\t\t\t\t9=not applicable\t\r\n"
)

PRODUCT_HEADER = (
    "PRODUCTID\tPRODUCTNDC\tPRODUCTTYPENAME\tPROPRIETARYNAME\tPROPRIETARYNAMESUFFIX\t"
    "NONPROPRIETARYNAME\tDOSAGEFORMNAME\tROUTENAME\tSTARTMARKETINGDATE\tENDMARKETINGDATE\t"
    "MARKETINGCATEGORYNAME\tAPPLICATIONNUMBER\tLABELERNAME\tSUBSTANCENAME\t"
    "ACTIVE_NUMERATOR_STRENGTH\tACTIVE_INGRED_UNIT\tPHARM_CLASSES\tDEASCHEDULE\t"
    "NDC_EXCLUDE_FLAG\tLISTING_RECORD_CERTIFIED_THROUGH\r\n"
)
PACKAGE_HEADER = (
    "PRODUCTID\tPRODUCTNDC\tNDCPACKAGECODE\tPACKAGEDESCRIPTION\tSTARTMARKETINGDATE\t"
    "ENDMARKETINGDATE\tNDC_EXCLUDE_FLAG\tSAMPLE_PACKAGE\r\n"
)


def write_ptp(folder: Path, *rows: str) -> None:
    body = "".join(row + "\r\n" for row in rows)
    (folder / "ccipra-v322r0-f1.TXT").write_bytes((PTP_PREAMBLE + body).encode("cp1252"))


def write_ndc_directory(folder: Path, packages: list[tuple[str, str]]) -> None:
    """One product per package: (hyphenated package NDC, package description)."""
    products = []
    lines = []
    for number, (package_ndc, description) in enumerate(packages):
        product_id = f"9{number:03d}-TEST_{number}"
        product_ndc = package_ndc.rsplit("-", 1)[0]
        products.append(
            f"{product_id}\t{product_ndc}\tHUMAN PRESCRIPTION DRUG\tEXAMPLE\t\tketorolac\t"
            "INJECTION, SOLUTION\tINTRAMUSCULAR\t20200101\t\tANDA\tANDA000000\tEXAMPLE LABS\t"
            "KETOROLAC TROMETHAMINE\t30\tmg/mL\t\t\tN\t20261231\r\n"
        )
        lines.append(
            f"{product_id}\t{product_ndc}\t{package_ndc}\t{description}\t20200101\t\tN\tN\r\n"
        )
    (folder / "product.txt").write_bytes((PRODUCT_HEADER + "".join(products)).encode("cp1252"))
    (folder / "package.txt").write_bytes((PACKAGE_HEADER + "".join(lines)).encode("cp1252"))


def check(
    claim: str, select: list[str], folder: Path | None, profile: str = "medicare"
) -> list[Finding]:
    engine = Engine(Settings(select=select), refdata=load_reference(folder))
    document = build_document(claim, profile)
    found: list[Finding] = []
    for _, findings in engine.iter_checked(UnitReader(SegmentReader(as_bytes(document)))):
        found.extend(findings)
    return found


INFUSION_AND_INJECTION = """
CLM*PTP0001*223***11:B:1*Y*A*Y*Y~
HI*ABK:K5900*ABF:R112~
LX*1~
SV1*HC:96365*180*UN*1***1~
DTP*472*D8*20250314~
LX*2~
SV1*HC:96372:XS*35*UN*1***2~
DTP*472*D8*20250314~
LX*3~
SV1*HC:J2405*8*UN*4***2~
DTP*472*D8*20250314~
LIN**N4*00409475503~
CTP****2*ML~
"""


def test_distinct_modifier_is_accepted_where_a_bypassable_edit_exists(tmp_path: Path) -> None:
    write_ptp(tmp_path, "96365\t96372\t\t20100101\t*\t1\tStandards of medical / surgical practice")
    assert check(INFUSION_AND_INJECTION, ["MOD-002"], tmp_path) == []


def test_distinct_modifier_without_a_bypassable_edit_is_a_warning(tmp_path: Path) -> None:
    # The only pair in the table for these codes cannot be bypassed (indicator 0).
    write_ptp(tmp_path, "96365\t96372\t\t20100101\t*\t0\tMutually exclusive procedures")
    (finding,) = check(INFUSION_AND_INJECTION, ["MOD-002"], tmp_path)
    assert (finding.code, finding.line, finding.element) == ("MOD-002", 2, "SV101-3")
    assert finding.severity.value == "warning"
    assert finding.fix is not None and not finding.fix.concrete


def test_deleted_edit_does_not_support_the_modifier(tmp_path: Path) -> None:
    write_ptp(
        tmp_path, "96365\t96372\t\t20100101\t20201231\t1\tStandards of medical / surgical practice"
    )
    (finding,) = check(INFUSION_AND_INJECTION, ["MOD-002"], tmp_path)
    assert finding.code == "MOD-002"


def test_distinct_modifier_part_is_silent_without_the_ptp_table(tmp_path: Path) -> None:
    write_ndc_directory(tmp_path, [("0409-4755-03", "25 VIAL in 1 TRAY / 2 mL in 1 VIAL")])
    assert check(INFUSION_AND_INJECTION, ["MOD-002"], tmp_path) == []


KETOROLAC_WITHOUT_JZ = """
CLM*JWZ0001*168***11:B:1*Y*A*Y*Y~
HI*ABK:M5450*ABF:I10~
LX*1~
SV1*HC:99213:25*125*UN*1***1:2~
DTP*472*D8*20250314~
LX*2~
SV1*HC:96372*35*UN*1***1~
DTP*472*D8*20250314~
LX*3~
SV1*HC:J1885*8*UN*2***1~
DTP*472*D8*20250314~
LIN**N4*{ndc}~
CTP****1*ML~
"""


def test_single_dose_package_of_a_mixed_code_needs_jz(tmp_path: Path) -> None:
    write_ndc_directory(
        tmp_path,
        [
            (
                "0409-3795-01",
                "25 VIAL, SINGLE-DOSE in 1 TRAY (0409-3795-01)  / 1 mL in 1 VIAL, SINGLE-DOSE",
            )
        ],
    )
    (finding,) = check(KETOROLAC_WITHOUT_JZ.format(ndc="00409379501"), ["JWZ-001"], tmp_path)
    assert (finding.code, finding.line, finding.severity.value) == ("JWZ-001", 3, "reject")


def test_multi_dose_package_is_exempt_even_for_a_single_dose_code(tmp_path: Path) -> None:
    # J0897 is single-dose in the shipped table; the billed NDC's FDA package says otherwise.
    write_ndc_directory(
        tmp_path,
        [("55513-0710-01", "1 VIAL, MULTI-DOSE in 1 CARTON / 10 mL in 1 VIAL, MULTI-DOSE")],
    )
    claim = KETOROLAC_WITHOUT_JZ.format(ndc="55513071001").replace(
        "SV1*HC:J1885*8*UN*2", "SV1*HC:J0897*8*UN*2"
    )
    assert check(claim, ["JWZ-001"], tmp_path) == []


def test_mixed_code_is_unknown_when_the_package_says_neither(tmp_path: Path) -> None:
    # The directory is loaded but does not settle the container: a warning, not a reject.
    write_ndc_directory(tmp_path, [("0409-3795-01", "25 VIAL in 1 TRAY / 1 mL in 1 VIAL")])
    found = check(KETOROLAC_WITHOUT_JZ.format(ndc="00409379501"), ["JWZ-001"], tmp_path)
    assert [(f.code, f.severity.value) for f in found] == [("JWZ-001", "warning")]
    assert "does not say which" in found[0].message
