"""Medicaid Drug Rebate Program labelers: finding, reading and asking the MDRP drug product CSV."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from edi837.config import settings_from_mapping
from edi837.engine import Engine
from edi837.refdata import (
    MEDICAID_TABLES,
    OFFICIAL_TABLES,
    ReferenceData,
    ReferenceDataError,
    TableInfo,
    load_reference,
)
from edi837.x12.reader import SegmentReader
from edi837.x837p.builder import UnitReader
from tests.rulecases import as_bytes, build_document

FIXTURE = Path(__file__).parent / "fixtures" / "refdata_cases" / "drug" / "mdrp"

# The published header of the quarterly CSV (data.medicaid.gov), all 24 columns.
COLUMNS = (
    "Year,Quarter,Labeler Name,NDC,Labeler Code,Product Code,Package Size Code,Drug Category,"
    "Drug Type Indicator,Termination Date,Unit Type,Units Per Pkg Size,FDA Approval Date,"
    "Market Date,FDA Therapeutic Equivalence Code,FDA Product Name,Clotting Factor Indicator,"
    "Pediatric Indicator,Package Size Intro Date,Purchased Product Date,COD Status,"
    "FDA Application Number,Reactivation Date,Line Extension Drug Indicator"
)


def row(
    ndc: str,
    terminated: str = "",
    reactivated: str = "",
    quarter: tuple[int, int] = (2025, 4),
    name: str = "EXAMPLE LABELER",
) -> str:
    """One data row of the published layout for an invented 11-digit NDC."""
    year, q = quarter
    return (
        f"{year},{q},{name},{ndc},{ndc[:5]},{ndc[5:9]},{ndc[9:]},N,1,{terminated},ML,1.000,"
        f"01/01/2020,01/01/2020,AP,EXAMPLE DRUG,N,N,,,01,0000000,{reactivated},N"
    )


def write_csv(folder: Path, name: str, *rows: str, header: str = COLUMNS) -> Path:
    path = folder / name
    path.write_bytes(("\r\n".join((header, *rows)) + "\r\n").encode("cp1252"))
    return path


def mdrp_info(ref: ReferenceData) -> TableInfo:
    return next(info for info in ref.tables if info.name == "mdrp")


# -- the fixture folder of the NDC-009 rule cases ----------------------------------------------


def test_the_labelers_listed_in_the_drug_product_file_take_part() -> None:
    ref = load_reference(FIXTURE)
    dos = date(2025, 3, 10)
    for labeler in ("00409", "00003", "60505"):
        assert ref.medicaid_rebate_labeler(labeler, dos) is True, labeler
    assert ref.medicaid_rebate_labeler("01234", dos) is False
    info = mdrp_info(ref)
    assert (info.as_of, info.rows, info.full) == ("2025-Q1", 3, True)
    assert info.path.name == "drugproducts1q_2025.csv"


def test_without_an_mdrp_file_the_answer_is_unknown_and_the_table_is_reported_missing() -> None:
    shipped = load_reference()
    assert shipped.medicaid_rebate_labeler("00409", date(2025, 3, 10)) is None
    assert shipped.missing() == list(OFFICIAL_TABLES)
    assert shipped.missing(medicaid=True) == list(OFFICIAL_TABLES + MEDICAID_TABLES)
    assert "mdrp" not in load_reference(FIXTURE).missing(medicaid=True)


# -- termination, reactivation and quarterly snapshots -----------------------------------------


def test_a_product_counts_through_its_termination_date(tmp_path: Path) -> None:
    write_csv(
        tmp_path,
        "drugproducts4q_2025.csv",
        row("11111000101", terminated="12/31/2025"),
        row("22222000101", terminated="06/30/2025"),
        row("22222000201"),
    )
    ref = load_reference(tmp_path)
    assert ref.medicaid_rebate_labeler("11111", date(2025, 12, 31)) is True
    assert ref.medicaid_rebate_labeler("11111", date(2026, 1, 1)) is False
    # One product still on the market keeps the labeler in.
    assert ref.medicaid_rebate_labeler("22222", date(2027, 1, 1)) is True


def test_a_reactivated_product_counts_again(tmp_path: Path) -> None:
    write_csv(
        tmp_path,
        "drugproducts4q_2025.csv",
        row("33333000101", terminated="03/31/2024", reactivated="10/01/2024"),
        row("44444000101", terminated="09/30/2024", reactivated="01/01/2024"),
    )
    ref = load_reference(tmp_path)
    assert ref.medicaid_rebate_labeler("33333", date(2025, 11, 1)) is True
    assert ref.medicaid_rebate_labeler("44444", date(2025, 11, 1)) is False


def test_the_newest_snapshot_of_a_product_decides(tmp_path: Path) -> None:
    write_csv(
        tmp_path,
        "drug-products-in-the-medicaid-drug-rebate-program.csv",
        row("55555000101", quarter=(2025, 3)),
        row("55555000101", terminated="10/15/2025", quarter=(2025, 4)),
        row("66666000101", quarter=(2025, 3)),
        row("66666000101", quarter=(2025, 4)),
        row("77777000101", quarter=(2025, 3)),  # gone from 2025-Q4: the labeler left
    )
    ref = load_reference(tmp_path)
    assert ref.medicaid_rebate_labeler("55555", date(2025, 10, 15)) is True
    assert ref.medicaid_rebate_labeler("55555", date(2025, 10, 16)) is False
    assert ref.medicaid_rebate_labeler("66666", date(2026, 2, 1)) is True
    assert ref.medicaid_rebate_labeler("77777", date(2025, 9, 30)) is True
    assert ref.medicaid_rebate_labeler("77777", date(2025, 10, 1)) is False
    assert mdrp_info(ref).as_of == "2025-Q4 (snapshots from 2025-Q3)"


def test_without_a_service_date_any_listed_product_counts(tmp_path: Path) -> None:
    write_csv(tmp_path, "drugproducts4q_2025.csv", row("11111000101", terminated="01/31/2020"))
    ref = load_reference(tmp_path)
    assert ref.medicaid_rebate_labeler("11111", None) is True
    assert ref.medicaid_rebate_labeler("99999", None) is False


# -- reading the file ----------------------------------------------------------------------------


def test_the_header_is_found_by_content_in_other_spellings_and_date_layouts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "drugproducts4q_2025.csv"
    path.write_bytes(
        b"Drug Products in the Medicaid Drug Rebate Program\r\n"
        b"\r\n"
        b"labeler_name,labeler_code,product_code,package_size_code,termination_date\r\n"
        b"EXAMPLE LABELER A,409,3795,1,\r\n"  # leading zeros lost in a spreadsheet
        b"EXAMPLE LABELER B,11111,0001,01,12312025\r\n"
        b"EXAMPLE LABELER C,22222,0001,01,2025-06-30\r\n"
    )
    ref = load_reference(tmp_path)
    assert ref.medicaid_rebate_labeler("00409", date(2026, 1, 1)) is True
    assert ref.medicaid_rebate_labeler("11111", date(2025, 12, 31)) is True
    assert ref.medicaid_rebate_labeler("11111", date(2026, 1, 1)) is False
    assert ref.medicaid_rebate_labeler("22222", date(2025, 7, 1)) is False
    assert mdrp_info(ref).as_of == "2025-Q4"


def test_windows_1252_names_and_a_utf8_byte_order_mark_load(tmp_path: Path) -> None:
    cp1252 = tmp_path / "cp1252"
    cp1252.mkdir()
    path = write_csv(cp1252, "drugproducts4q_2025.csv", row("11111000101", name="DR. REDDY’S"))
    # 0x92 is cp1252's right quote; 0x81 is a byte cp1252 leaves undefined.
    path.write_bytes(path.read_bytes().replace(b"\x92S", b"\x92S\x81"))
    assert b"\x92S\x81" in path.read_bytes()
    assert load_reference(cp1252).medicaid_rebate_labeler("11111", date(2026, 1, 1)) is True

    bom = tmp_path / "bom"
    bom.mkdir()
    text = "\r\n".join((COLUMNS, row("22222000101", name="LABORATOIRES ÉXEMPLE"))) + "\r\n"
    (bom / "drugproducts4q_2025.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert load_reference(bom).medicaid_rebate_labeler("22222", date(2026, 1, 1)) is True


def test_an_unreadable_date_keeps_the_product_listed_and_is_noted(tmp_path: Path) -> None:
    write_csv(tmp_path, "drugproducts4q_2025.csv", row("11111000101", terminated="31/31/2025"))
    ref = load_reference(tmp_path)
    assert ref.medicaid_rebate_labeler("11111", date(2026, 1, 1)) is True
    assert any("unreadable" in note and "mdrp" in note for note in ref.notes)


def test_a_file_named_like_the_mdrp_file_without_its_header_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "drugproducts4q_2025.csv").write_bytes(b"NDC,Price\r\n00409379501,1.00\r\n")
    with pytest.raises(ReferenceDataError, match="not an MDRP drug product file"):
        load_reference(tmp_path)


# -- finding the file ----------------------------------------------------------------------------


def test_the_file_is_found_inside_a_downloaded_zip_archive(tmp_path: Path) -> None:
    source = write_csv(tmp_path, "download.tmp", row("11111000101"))
    folder = tmp_path / "refdata"
    folder.mkdir()
    with zipfile.ZipFile(folder / "drugproducts4q_2025.zip", "w") as archive:
        archive.write(source, "drugproducts4q_2025.csv")
    ref = load_reference(folder)
    assert ref.medicaid_rebate_labeler("11111", date(2026, 1, 1)) is True
    assert mdrp_info(ref).location.endswith(".zip!drugproducts4q_2025.csv")


def test_the_newest_quarter_in_a_folder_is_used(tmp_path: Path) -> None:
    write_csv(tmp_path, "drugproducts3q_2025.csv", row("11111000101", quarter=(2025, 3)))
    write_csv(tmp_path, "drugproducts4q_2025Updated02122026.csv", row("22222000101"))
    ref = load_reference(tmp_path)
    assert ref.medicaid_rebate_labeler("22222", date(2026, 1, 5)) is True
    assert ref.medicaid_rebate_labeler("11111", date(2026, 1, 5)) is False
    assert mdrp_info(ref).as_of == "2025-Q4 (updated 2026-02-12)"
    assert any("drugproducts3q_2025.csv" in note for note in ref.notes)


def test_an_excel_only_download_is_skipped_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "DrugProduct.xlsx").write_bytes(b"")
    ref = load_reference(tmp_path)
    assert "mdrp" in ref.missing(medicaid=True)
    assert any("DrugProduct.xlsx" in note and "CSV" in note for note in ref.notes)


# -- what a Medicaid biller sees --------------------------------------------------------------


def test_a_drug_from_a_labeler_terminated_before_the_service_date_is_reported(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path, "drugproducts4q_2025.csv", row("00409379501", terminated="02/28/2025"))
    claim = """CLM*PCN20250310A*162***11:B:1*Y*A*Y*Y~
HI*ABK:M5450~
LX*1~
SV1*HC:96372*40*UN*1***1~
DTP*472*D8*20250310~
LX*2~
SV1*HC:J1885*12*UN*2***1~
DTP*472*D8*20250310~
LIN**N4*00409379501~
CTP****1*ML~
"""
    settings = settings_from_mapping({"select": ["NDC-009"], "refdata": str(tmp_path)})
    reader = UnitReader(SegmentReader(as_bytes(build_document(claim, "medicaid"))))
    findings = [f for _, found in Engine(settings).iter_checked(reader) for f in found]
    assert [(f.code, f.line, f.element) for f in findings] == [("NDC-009", 2, "LIN03")]
    assert "00409" in findings[0].message
