"""Reference data: shipped tables, official-file loaders and the lookups the rules rely on."""

from __future__ import annotations

import ast
import shutil
import sys
import zipfile
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree

import pytest

import edi837.refdata
from edi837.refdata import (
    OFFICIAL_TABLES,
    DrugCode,
    Mue,
    PtpEdit,
    ReferenceData,
    ReferenceDataError,
    is_placeholder,
    load_reference,
    normalize_hyphenated,
    paddings_of_10,
)
from edi837.refdata.asp import load_crosswalk
from edi837.refdata.hcpcs import load_hcpcs_txt
from edi837.refdata.ncci import load_mue, load_ptp
from edi837.refdata.shipped import parse_table
from edi837.refdata.sources import Source

FIXTURES = Path(__file__).parent / "fixtures" / "refdata"
FULL = FIXTURES / "full"
VARIANTS = FIXTURES / "variants"
PTP_F1 = FULL / "ccipra-v322r0-f1.TXT"
MUE_FILE = FULL / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
CROSSWALK_2026 = FULL / "section 508 version of October 2026 ASP NDC-HCPCS Crosswalk 091126.csv"
CROSSWALK_2019 = VARIANTS / "section 508 version of July 2019 ASP NDC-HCPCS Crosswalk.csv"


def source(path: Path) -> Source:
    return Source(path, None, date(2026, 11, 1))


def edit_on(ref: ReferenceData, column1: str, column2: str, dos: date) -> PtpEdit:
    edit = ref.ptp(column1, column2, dos)
    assert edit is not None, (column1, column2, dos)
    return edit


def mue_of(ref: ReferenceData, code: str) -> Mue:
    mue = ref.mue(code)
    assert mue is not None, code
    return mue


def drug_of(ref: ReferenceData, code: str) -> DrugCode:
    drug = ref.drug(code)
    assert drug is not None, code
    return drug


@pytest.fixture(scope="module")
def full() -> ReferenceData:
    return load_reference(FULL)


@pytest.fixture(scope="module")
def shipped() -> ReferenceData:
    return load_reference()


# -- which tables are loaded --------------------------------------------------------------------


def test_without_a_folder_every_official_table_is_reported_missing(shipped: ReferenceData) -> None:
    assert shipped.missing() == list(OFFICIAL_TABLES)
    assert shipped.ptp("0001A", "99211", date(2023, 1, 1)) is None
    assert shipped.hcpcs_active("J1885", date(2023, 1, 1)) is None
    assert shipped.ndc_marketed_on("00002759701", date(2023, 1, 1)) is None


def test_a_folder_with_every_official_file_leaves_nothing_missing(full: ReferenceData) -> None:
    assert full.missing() == []
    official = {info.name for info in full.tables if info.full}
    assert official == set(OFFICIAL_TABLES)


def test_only_the_absent_official_tables_are_reported(tmp_path: Path) -> None:
    shutil.copy(MUE_FILE, tmp_path)
    shutil.copy(CROSSWALK_2026, tmp_path)
    ref = load_reference(tmp_path)
    assert ref.missing() == ["ncci-ptp", "hcpcs", "ndc-directory"]


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="not found"):
        load_reference(tmp_path / "nowhere")


def test_official_tables_record_the_quarter_they_reflect(full: ReferenceData) -> None:
    as_of = {info.name: info.as_of for info in full.tables if info.full}
    assert as_of["ncci-ptp"] == "2026-Q3 (v322r0)"
    assert as_of["mue"] == "2026-07-01"
    assert as_of["asp-crosswalk"] == "2026-Q4 (effective 2026-10-01)"
    assert as_of["hcpcs"] == "2026-Q4"
    assert as_of["ndc-directory"].startswith("file date ")


def test_files_inside_the_downloaded_zip_archives_are_found(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits.zip", "w") as zf:
        zf.write(PTP_F1, PTP_F1.name)
    with zipfile.ZipFile(tmp_path / "ndctext.zip", "w") as zf:
        zf.write(FULL / "product.txt", "product.txt")
        zf.write(FULL / "package.txt", "package.txt")
    ref = load_reference(tmp_path)
    assert ref.missing() == ["mue", "asp-crosswalk", "hcpcs"]
    ptp_info = next(info for info in ref.tables if info.name == "ncci-ptp")
    assert ptp_info.member == PTP_F1.name
    assert ptp_info.location.endswith(".zip!" + PTP_F1.name)
    assert ref.ptp("0001A", "99211", date(2023, 1, 1)) is not None
    assert ref.ndc_marketed_on("00002759701", date(2023, 1, 1)) is True


def test_excel_only_downloads_are_skipped_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "HCPC2026_OCT_ANWEB.xlsx").write_bytes(b"")
    (tmp_path / "ccipra-v322r0-f1.xlsx").write_bytes(b"")
    ref = load_reference(tmp_path)
    assert "hcpcs" in ref.missing() and "ncci-ptp" in ref.missing()
    assert any("HCPC2026_OCT_ANWEB.xlsx" in note and "openpyxl" in note for note in ref.notes)
    assert any("ccipra-v322r0-f1.xlsx" in note for note in ref.notes)


# -- shipped tables -----------------------------------------------------------------------------


def test_every_shipped_table_names_its_source_and_date(shipped: ReferenceData) -> None:
    infos = [info for info in shipped.tables if not info.full]
    assert len(infos) == 12
    for info in infos:
        assert info.source and info.as_of and info.rows > 0, info.name
        text = info.path.read_text(encoding="utf-8")
        assert text.startswith("# source: "), info.name


def test_a_shipped_table_without_provenance_is_refused(tmp_path: Path) -> None:
    text = "# source: somewhere\ncode,product\n90281,immune globulin\n"
    with pytest.raises(ReferenceDataError, match="as_of"):
        parse_table("immune-globulins", text, tmp_path / "immune_globulins.csv")


def test_shipped_tables_are_read_once_per_process() -> None:
    assert load_reference().shipped is load_reference().shipped


def test_em_codes_are_grouped_by_family(shipped: ReferenceData) -> None:
    assert shipped.em_family("99213") == "office-outpatient"
    assert shipped.em_family("99202") == "office-outpatient"
    assert shipped.em_family("99284") == "emergency-department"
    assert shipped.em_family("99201") == "office-outpatient"  # deleted 2021, still classified
    assert shipped.em_family("96372") is None


def test_vaccine_products_carry_the_kind_that_picks_the_admin_code(shipped: ReferenceData) -> None:
    assert shipped.vaccine_kind("90686") == "flu"
    assert shipped.vaccine_kind("90677") == "pneumococcal"
    assert shipped.vaccine_kind("90746") == "hepatitis B"
    assert shipped.vaccine_kind("91320") == "covid"
    assert shipped.vaccine_kind("91399") == "covid"  # future 913xx product code
    assert shipped.vaccine_kind("90587") == "other"  # in 90476-90759 but not listed
    assert shipped.vaccine_kind("Q2038") == "flu"
    assert shipped.vaccine_kind("90371") is None  # immune globulin, not a vaccine
    assert not shipped.is_vaccine_product("96372")
    assert shipped.vaccine_admin_codes("flu") == ["G0008"]


def test_immunization_administration_and_immune_globulin_codes(shipped: ReferenceData) -> None:
    for code in ("90460", "90461", "90471", "90472", "90473", "90474", "G0008", "G0010", "90480"):
        assert shipped.is_vaccine_admin(code), code
    assert not shipped.is_vaccine_admin("96372")
    assert shipped.is_immune_globulin("90281") and shipped.is_immune_globulin("90399")
    assert shipped.is_immune_globulin("90375")
    assert not shipped.is_immune_globulin("90400") and not shipped.is_immune_globulin("90280")


def test_facility_places_of_service_carry_a_risk(shipped: ReferenceData) -> None:
    assert [shipped.facility_pos_risk(p) for p in ("19", "21", "22", "23")] == ["high"] * 4
    assert shipped.facility_pos_risk("31") == "medium"
    assert shipped.facility_pos_risk("24") == "medium"
    assert shipped.facility_pos_risk("11") is None
    assert shipped.facility_pos_risk("10") is None


def test_pos_codes_known_unknown_and_malformed(shipped: ReferenceData) -> None:
    assert shipped.is_pos_code("11") is True
    assert shipped.pos_name("11") == "Office"
    assert shipped.is_pos_code("35") is None  # unassigned today, may be assigned later
    assert shipped.is_pos_code("1") is False
    assert shipped.is_pos_code("1A") is False


def test_pos_codes_cover_the_list_pyx12_ships(shipped: ReferenceData) -> None:
    codes_xml = resources.files("pyx12").joinpath("map", "codes.xml").read_bytes()
    root = ElementTree.fromstring(codes_xml)
    pos_set = next(cs for cs in root.iter("codeset") if cs.findtext("id") == "pos")
    pyx12_codes = {code.text for code in pos_set.iter("code") if code.text}
    assert pyx12_codes
    assert all(shipped.is_pos_code(code) for code in pyx12_codes)


def test_noc_codes_and_configured_extras(shipped: ReferenceData) -> None:
    for code in ("J3490", "J3590", "J7999", "J9999", "J7699", "J7799", "J7199", "J7599"):
        assert shipped.is_noc(code), code
    for code in ("J1599", "90399", "90749", "A9699", "C9399"):
        assert shipped.is_noc(code), code
    assert shipped.noc_hospital_only("C9399") and not shipped.noc_hospital_only("J3490")
    assert not shipped.is_noc("J1885")
    configured = shipped.with_extra_noc(["s5000", " J1885 "])
    assert configured.is_noc("S5000") and configured.is_noc("J1885")
    assert not shipped.is_noc("S5000")  # the original is unchanged


def test_antineoplastic_drugs_are_hormonal_or_not(shipped: ReferenceData) -> None:
    for code in ("J9217", "J9202", "J9395", "J9155"):
        assert shipped.antineoplastic(code) == "hormonal", code
    assert shipped.antineoplastic("J9035") == "non-hormonal"
    assert shipped.antineoplastic("J9999") == "non-hormonal"  # J9000-J9999 range
    assert shipped.antineoplastic("J9209") is None  # mesna: not antineoplastic therapy
    assert shipped.antineoplastic("J1950") is None  # leuprolide, non-oncologic use
    assert shipped.antineoplastic("Q5107") == "non-hormonal"
    assert shipped.antineoplastic("J1885") is None


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("MG", ("ME", "safe")),
        ("GM", ("GR", "safe")),
        ("IU", ("F2", "safe")),
        ("EA", ("UN", "unsafe")),
        ("ml", ("ML", "safe")),
        ("ML", None),
        ("XX", None),
    ],
)
def test_ndc_unit_fixes(shipped: ReferenceData, unit: str, expected: object) -> None:
    assert shipped.ndc_unit_fix(unit) == expected


def test_injectable_drugs_give_billing_units(shipped: ReferenceData) -> None:
    ketorolac = drug_of(shipped, "J1885")
    assert (ketorolac.unit_quantity, ketorolac.unit, ketorolac.up_to) == (Decimal(15), "MG", False)
    b12 = drug_of(shipped, "j3420")
    assert (b12.unit_quantity, b12.unit, b12.up_to) == (Decimal(1000), "MCG", True)
    assert drug_of(shipped, "J0696").unit_quantity == Decimal(250)
    assert not drug_of(shipped, "J3490").has_billing_unit
    table = next(info for info in shipped.tables if info.name == "injectable-drugs")
    assert table.rows >= 40
    for row_code in ("J1030", "J3301", "J1100", "J2550", "J1200"):
        drug = drug_of(shipped, row_code)
        assert drug.unit_quantity > 0
        assert drug.single_dose in ("yes", "no", "mixed")
        assert drug.form in ("solution", "powder", "suspension")


def test_drug_codes_include_j_q_and_immune_globulins_only(shipped: ReferenceData) -> None:
    for code in ("J1885", "J3490", "Q5106", "Q9991", "90371", "J9217"):
        assert shipped.is_drug_code(code), code
    for code in ("Q3014", "Q4101", "Q0091", "Q2038", "S0020", "C9399", "96372", "99213", "90686"):
        assert not shipped.is_drug_code(code), code


# -- NCCI PTP -----------------------------------------------------------------------------------


def test_ptp_edits_apply_inside_their_date_window(full: ReferenceData) -> None:
    assert full.ptp("0001A", "99211", date(2021, 12, 31)) is None
    edit = edit_on(full, "0001A", "99211", date(2022, 1, 1))
    assert edit.modifier == 1
    assert edit.rationale == "CPT Manual or CMS manual coding instruction"
    assert full.ptp("0001A", "99211", date(2023, 12, 31)) is not None
    assert full.ptp("0001A", "99211", date(2024, 1, 1)) is None


def test_an_open_deletion_date_means_still_active(full: ReferenceData) -> None:
    assert edit_on(full, "0001U", "0030U", date(2030, 1, 1)).deletion is None


def test_indicator_9_marks_an_edit_deleted_the_day_it_started(full: ReferenceData) -> None:
    assert edit_on(full, "0001A", "G0008", date(2022, 1, 1)).modifier == 9
    assert full.ptp("0001A", "G0008", date(2022, 1, 2)) is None


def test_a_repeated_pair_keeps_each_window(full: ReferenceData) -> None:
    assert full.ptp_table is not None
    windows = full.ptp_table.edits("ZZ001", "ZZ002")
    assert [(e.effective, e.deletion, e.modifier) for e in windows] == [
        (date(2015, 1, 1), date(2017, 12, 31), 1),
        (date(2020, 1, 1), None, 0),
    ]
    assert edit_on(full, "ZZ001", "ZZ002", date(2016, 6, 1)).modifier == 1
    assert full.ptp("ZZ001", "ZZ002", date(2018, 6, 1)) is None
    assert edit_on(full, "ZZ001", "ZZ002", date(2024, 6, 1)).modifier == 0


def test_ptp_is_column_ordered_and_ptp_pair_tries_both_orders(full: ReferenceData) -> None:
    dos = date(2023, 3, 1)
    assert full.ptp("99211", "0001A", dos) is None
    edit = full.ptp_pair("99211", "0001A", dos)
    assert edit is not None
    assert (edit.column1, edit.column2) == ("0001A", "99211")


def test_ptp_reads_the_pre_1996_flag_and_second_part(full: ReferenceData) -> None:
    assert edit_on(full, "ZZ003", "ZZ004", date(2000, 1, 1)).pre_1996


def test_ptp_uses_the_newest_version_and_notes_skipped_rows(full: ReferenceData) -> None:
    assert full.ptp("ZZ007", "ZZ008", date(2024, 1, 1)) is None  # only in v321r0
    assert any("v321r0" in note for note in full.notes)
    assert any("skipped: 1" in note for note in full.notes)


def test_ptp_header_is_found_by_content_not_line_count(tmp_path: Path) -> None:
    lines = PTP_F1.read_bytes().split(b"\r\n")
    moved = tmp_path / "ccipra-v322r0-f1.TXT"
    moved.write_bytes(b"\r\n".join([b"A new notice line\t\t\t\t\t\t", *lines]))
    table = load_ptp([source(moved)])
    assert len(table) == 8


def test_a_file_without_the_ptp_header_is_rejected(tmp_path: Path) -> None:
    bogus = tmp_path / "ccipra-v322r0-f1.TXT"
    bogus.write_text("0001A\t99211\t\t20220101\t*\t1\tx\n", encoding="cp1252")
    with pytest.raises(ReferenceDataError, match="Column 1"):
        load_reference(tmp_path)


# -- MUE ----------------------------------------------------------------------------------------


def test_mue_values_and_adjudication_indicators(full: ReferenceData) -> None:
    j1885 = mue_of(full, "J1885")
    assert (j1885.value, j1885.mai, j1885.rationale) == (8, 3, "Prescribing Information")
    assert j1885.mai_text == "3 Date of Service Edit: Clinical"
    assert mue_of(full, "0001U").mai == 2
    assert mue_of(full, "ZZ001").mai == 1
    assert mue_of(full, "E0114").value == 0  # 0 is a real limit, not "no limit"
    assert full.mue("96372") is None  # not published in this file


def test_mue_effective_date_comes_from_the_file_name() -> None:
    table = load_mue(source(MUE_FILE))
    assert table.effective == date(2026, 7, 1)
    assert len(table) == 5


# -- ASP crosswalk ------------------------------------------------------------------------------


def test_crosswalk_maps_hyphenated_ndcs_to_hcpcs(full: ReferenceData) -> None:
    rows = full.crosswalk_for_ndc("50242006101")
    assert len(rows) == 1
    row = rows[0]
    assert (row.hcpcs, row.dosage) == ("J9035", "10 MG")
    assert row.billable_units_per_package == Decimal(40)
    assert row.package_size == Decimal(16) and row.labeler == "Genentech, Inc."
    assert {r.hcpcs for r in full.crosswalk_for_ndc("00069130510")} == {"Q5105", "Q5106"}
    assert len(full.crosswalk_for_hcpcs("J9035")) == 2


def test_crosswalk_keeps_non_ndc_ids_without_indexing_them(full: ReferenceData) -> None:
    (row,) = full.crosswalk_for_hcpcs("J7331")
    assert row.ndc11 is None and row.product_id == "888867413689"
    assert full.crosswalk_for_ndc("888867413689") == []


@pytest.mark.parametrize("path", [CROSSWALK_2026, CROSSWALK_2019], ids=["NDC", "NDC2"])
def test_crosswalk_accepts_both_ndc_header_spellings(path: Path) -> None:
    table = load_crosswalk(source(path))
    assert [row.hcpcs for row in table.by_ndc["50242006001"]] == ["J9035"]


def test_crosswalk_quarter_comes_from_the_effective_line() -> None:
    assert load_crosswalk(source(CROSSWALK_2019)).quarter == "2019-Q3"


def test_the_latest_crosswalk_quarter_in_a_folder_is_used(tmp_path: Path) -> None:
    shutil.copy(CROSSWALK_2019, tmp_path)
    shutil.copy(CROSSWALK_2026, tmp_path)
    ref = load_reference(tmp_path)
    info = next(info for info in ref.tables if info.name == "asp-crosswalk")
    assert info.path.name == CROSSWALK_2026.name
    assert len(ref.crosswalk_for_hcpcs("J9035")) == 2


def test_an_mue_file_without_its_header_is_rejected(tmp_path: Path) -> None:
    bogus = tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
    bogus.write_text("J1885,8,3 Date of Service Edit: Clinical,x\n", encoding="cp1252")
    with pytest.raises(ReferenceDataError, match="HCPCS/CPT Code"):
        load_mue(source(bogus))


def test_crosswalk_with_a_utf8_bom_still_loads(tmp_path: Path) -> None:
    copy = tmp_path / "asp crosswalk.csv"
    copy.write_bytes(b"\xef\xbb\xbf" + CROSSWALK_2026.read_bytes())
    assert load_crosswalk(source(copy)).rows == 5


# -- HCPCS --------------------------------------------------------------------------------------


def test_hcpcs_fixed_width_records_and_continuations(full: ReferenceData) -> None:
    record = full.hcpcs_code("J3030")
    assert record is not None
    assert record.long_description == (
        "Injection, sumatriptan succinate, 6 mg (code may be used for medicare when drug "
        "administered under the direct supervision of a physician, not for use when drug is "
        "self administered)"
    )
    assert record.short_description == "Sumatriptan succinate / 6 mg"
    assert record.pricing == ("51",)
    assert full.hcpcs_code("JW") is None  # modifiers are not codes


def test_hcpcs_active_follows_the_termination_date(full: ReferenceData) -> None:
    assert full.hcpcs_active("J2505", date(2021, 12, 31)) is True
    assert full.hcpcs_active("J2505", date(2022, 1, 1)) is False
    assert full.hcpcs_active("J2506", date(2021, 12, 31)) is False  # not yet added
    assert full.hcpcs_active("J2506", date(2022, 1, 1)) is True
    assert full.hcpcs_active("J9998", date(2022, 1, 1)) is False  # not in the file
    assert full.hcpcs_active("96372", date(2022, 1, 1)) is None  # CPT: not a Level II code


def test_a_text_file_not_in_the_hcpcs_layout_is_rejected(tmp_path: Path) -> None:
    bogus = tmp_path / "HCPC2026_OCT_ANWEB.txt"
    bogus.write_text("HCPC,SEQNUM,RECID\n", encoding="cp1252")
    with pytest.raises(ReferenceDataError, match="fixed-width"):
        load_hcpcs_txt(source(bogus))


# -- FDA NDC Directory --------------------------------------------------------------------------


def test_ndc_directory_packages_join_their_product(full: ReferenceData) -> None:
    package = full.ndc_package("00002759701")
    assert package is not None
    assert package.single_dose
    assert package.proprietary_name == "Exampladol\u2122"  # read as Windows-1252
    assert package.strength == "30 mg/mL"
    assert package.start == date(2020, 1, 1) and package.end is None
    multi = full.ndc_package("50242004062")
    assert multi is not None and not multi.single_dose


def test_ndc_marketing_dates_decide_marketed_on_the_dos(full: ReferenceData) -> None:
    # 50242-040-62 was listed twice, 2010-2014 and 2016-2023.
    assert full.ndc_marketed_on("50242004062", date(2012, 5, 1)) is True
    assert full.ndc_marketed_on("50242004062", date(2015, 5, 1)) is False
    assert full.ndc_marketed_on("50242004062", date(2024, 1, 1)) is False
    assert full.ndc_marketed_on("99999000001", date(2024, 1, 1)) is False
    newest = full.ndc_package("50242004062")
    assert newest is not None and newest.start == date(2016, 1, 1)


def test_bare_10_digit_ndc_lookup(full: ReferenceData, shipped: ReferenceData) -> None:
    assert full.ndc_candidates_from_10("0002759701") == ["00002759701"]  # exactly one: safe
    assert full.ndc_candidates_from_10("1234512345") == ["01234512345", "12345012345"]
    assert full.ndc_candidates_from_10("0000000001") == []
    assert shipped.ndc_candidates_from_10("0002759701") == []


# -- NDC helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "ndc11"),
    [
        ("0002-7597-01", "00002759701"),  # 4-4-2
        ("50242-040-62", "50242004062"),  # 5-3-2
        ("60575-4112-1", "60575411201"),  # 5-4-1
        ("00002-7597-01", "00002759701"),  # 5-4-2
        (" 0002 7597 01 ", "00002759701"),  # spaces as separators
        ("50242-*040-62", "50242004062"),  # label placeholder at the padding position
        ("*0002-7597-01", "00002759701"),
        ("00002759701", "00002759701"),  # already N4 form
        ("0002759701", None),  # bare 10 digits: ambiguous without the directory
        ("0002-7597", None),
        ("002-7597-01", None),
        ("50242-04*0-62", None),  # placeholder not at a padding position
        ("5024A-040-62", None),
        ("", None),
    ],
)
def test_normalize_hyphenated(printed: str, ndc11: str | None) -> None:
    assert normalize_hyphenated(printed) == ndc11


def test_paddings_of_10_follow_the_three_layouts() -> None:
    assert paddings_of_10("0002759701") == ["00002759701", "00027059701", "00027597001"]
    assert paddings_of_10("12345") == []


@pytest.mark.parametrize(
    ("ndc11", "placeholder"),
    [
        ("99999999999", True),
        ("99999999992", True),
        ("99999999996", True),
        ("00000000000", True),
        ("99999999997", False),
        ("00002759701", False),
    ],
)
def test_placeholder_ndcs(ndc11: str, placeholder: bool) -> None:
    assert is_placeholder(ndc11) is placeholder


# -- package boundaries -------------------------------------------------------------------------


def test_refdata_imports_only_the_standard_library() -> None:
    package = Path(edi837.refdata.__file__).parent
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                continue  # relative: inside edi837.refdata
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", (module.name, name)
