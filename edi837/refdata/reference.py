"""The reference data the rules consult: shipped tables plus whichever official files were found.

:func:`load_reference` always has the shipped tables (cached per process) and adds the official
CMS/FDA files it finds in a folder, by their published names: NCCI practitioner PTP parts
(``ccipra-*.TXT``), the practitioner MUE CSV (``*MUE*Practitioner*.csv``), the ASP NDC-HCPCS
crosswalk 508 CSV (``*crosswalk*.csv``), the HCPCS alpha-numeric TXT (``HCPC*.txt``), the FDA
NDC Directory (``product.txt`` + ``package.txt``) and the CMS Medicaid Drug Rebate Program drug
product CSV (``drugproducts*.csv``, ``drug-products-in-the-medicaid-drug-rebate-program.csv``),
plain or inside the zip archives as downloaded. :class:`ReferenceData` answers the questions the
rules ask and says which official tables are missing, so a rule can tell "no edit" from "no
data".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from .asp import CrosswalkTable, load_crosswalk
from .fda import PACKAGE_NAME, PRODUCT_NAME, NdcDirectory, load_packages, load_products
from .hcpcs import (
    HCPCS_TXT_NAME,
    HCPCS_XLSX_NAME,
    LEVEL2_CODE,
    HcpcsTable,
    hcpcs_period,
    load_hcpcs_txt,
    looks_like_hcpcs_txt,
)
from .mdrp import (
    MDRP_EXCEL_NAME,
    MDRP_NAME,
    RebateTable,
    load_mdrp,
    mdrp_quarter,
    mdrp_updated,
)
from .model import (
    MEDICAID_TABLES,
    OFFICIAL_TABLES,
    AdministrationCode,
    AntineoplasticKind,
    CrosswalkRow,
    DrugCode,
    FixSafety,
    HcpcsCode,
    Mue,
    NdcPackage,
    PtpEdit,
    ReferenceDataError,
    TableInfo,
    code_in_range,
)
from .ncci import (
    MUE_NAME,
    PTP_NAME,
    MueTable,
    PtpTable,
    load_mue,
    mue_effective_date,
    ptp_quarter,
)
from .ndc import paddings_of_10
from .shipped import ShippedTables, shipped_tables
from .sources import Source, discover, open_text

_J_CODE = re.compile(r"^J\d{4}$")
_Q_CODE = re.compile(r"^Q\d{4}$")

# Q codes that are services, supplies or site codes rather than drugs (HCPCS Level II
# descriptors): cardiokymography, infusion/chemotherapy administration, Pap smear and office
# lab tests; ventricular assist device supplies and pharmacy fees; new-technology IOLs; the IVIG
# demonstration services; brachytherapy sources, the telehealth originating-site fee and the
# collagen skin test; casting and splint supplies; skin substitutes; hospice and home health
# site codes; the Tc-99m add-on, platelet pathogen tests and products, enteral enzyme cartridges.
_Q_NON_DRUG = (
    ("Q0035", "Q0115"),
    ("Q0477", "Q0514"),
    ("Q1004", "Q1005"),
    ("Q2052", "Q2052"),
    ("Q3001", "Q3001"),
    ("Q3014", "Q3014"),
    ("Q3031", "Q3031"),
    ("Q4001", "Q4051"),
    ("Q4100", "Q4399"),
    ("Q5001", "Q5010"),
    ("Q9969", "Q9969"),
    ("Q9987", "Q9988"),
    ("Q9994", "Q9994"),
)

_NAMED_QUARTER = re.compile(r"\b(january|april|july|october)\s+(\d{4})\b", re.I)
_QUARTER_MONTHS = {"january": "Q1", "april": "Q2", "july": "Q3", "october": "Q4"}

_SOURCES = {
    "ncci-ptp": "CMS Medicare NCCI Procedure to Procedure (PTP) Edits, practitioner",
    "mue": "CMS Medicare NCCI Medically Unlikely Edits (MUEs), practitioner services",
    "asp-crosswalk": "CMS ASP Pricing Files, ASP NDC-HCPCS crosswalk (section 508 CSV)",
    "hcpcs": "CMS HCPCS Quarterly Update, alpha-numeric HCPCS file (fixed-width TXT)",
    "ndc-directory": "FDA National Drug Code Directory (ndctext: product.txt, package.txt)",
    "mdrp": "CMS Drug Products in the Medicaid Drug Rebate Program (data.medicaid.gov CSV)",
}


# A dose in a HCPCS descriptor: "500 mg", "1 mcg", "10 units".
_DESCRIPTOR_DOSE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(mg|mcg|g|ml|units?)\b", re.IGNORECASE)


def _norm(code: str) -> str:
    return code.strip().upper()


def _in_range(code: str, low: int, high: int) -> bool:
    """True for a 5-digit numeric (CPT) code inside ``low``..``high``."""
    return len(code) == 5 and code.isascii() and code.isdecimal() and low <= int(code) <= high


@dataclass(frozen=True, slots=True)
class CodeFacts:
    """What the shipped tables (and ``extra_noc``) say about one SV101-2 code.

    A file bills a few hundred distinct codes on many thousands of lines, so the answers of
    the code-family lookups are worked out once per code as sent and kept
    (:meth:`ReferenceData.code_facts`). Each field is the answer of the
    :class:`ReferenceData` method of the same name: ``drug`` of :meth:`~ReferenceData.drug`,
    ``drug_code`` of :meth:`~ReferenceData.is_drug_code`, ``noc`` of
    :meth:`~ReferenceData.is_noc`, and so on; ``administers`` of
    :meth:`~ReferenceData.may_administer`.
    """

    drug: DrugCode | None
    drug_code: bool
    immune_globulin: bool
    vaccine_product: bool
    vaccine_kind: str | None
    vaccine_admin: bool
    em_family: str | None
    noc: bool
    noc_hospital_only: bool
    antineoplastic: AntineoplasticKind | None
    administers: bool


# Bound of the per-code memo: more distinct codes than this in one run start it afresh.
_MEMO_LIMIT = 8192


@dataclass(frozen=True, eq=False)
class ReferenceData:
    """Reference tables and the lookups the edit rules use.

    Build it with :func:`load_reference`. Lookups that depend on an official file return None
    when that file was not loaded (see :meth:`missing` and :meth:`loaded`).

    Attributes:
        tables: Provenance of every loaded table, shipped and official.
        notes: Things the loader skipped and why (an Excel-only file, unreadable rows...).
        extra_noc: NOC codes added by configuration on top of the shipped list.
        shipped: The shipped tables (always present).
        ptp_table: NCCI practitioner PTP edits, when loaded.
        mue_table: Practitioner MUEs, when loaded.
        crosswalk: ASP NDC-HCPCS crosswalk, when loaded.
        hcpcs: HCPCS Level II codes, when loaded.
        ndc_directory: FDA NDC Directory packages, when loaded.
        mdrp: Medicaid Drug Rebate Program labelers, when loaded.
    """

    tables: list[TableInfo]
    notes: list[str] = field(default_factory=list)
    extra_noc: frozenset[str] = frozenset()
    shipped: ShippedTables = field(default_factory=shipped_tables, repr=False)
    ptp_table: PtpTable | None = field(default=None, repr=False)
    mue_table: MueTable | None = field(default=None, repr=False)
    crosswalk: CrosswalkTable | None = field(default=None, repr=False)
    hcpcs: HcpcsTable | None = field(default=None, repr=False)
    ndc_directory: NdcDirectory | None = field(default=None, repr=False)
    mdrp: RebateTable | None = field(default=None, repr=False)
    _codes: dict[str, CodeFacts] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Official tables a rule asked for while they were not loaded: what a run missed, so the
    # command line can name them once instead of warning on every run.
    wanted: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    _administrations: dict[tuple[str, date | None], AdministrationCode | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _drug_classes: dict[str, frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # The administration rows whose code range holds a code, whatever the date: most lines
    # (E/M, drugs, labs) are in none, and then no date needs to be read or compared.
    _administration_rows: dict[str, tuple[AdministrationCode, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: Memo tables of the rules that derive values from these tables, by the rule's name for
    #: them: they live and go with the data they were worked out from.
    rule_memos: dict[str, dict[Any, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # -- what is loaded ------------------------------------------------------------------

    def loaded(self, name: str) -> bool:
        """True when a table of that name (official or shipped) was loaded."""
        return any(info.name == name for info in self.tables)

    def missing(self, *, medicaid: bool = False) -> list[str]:
        """Official tables not loaded, in the order of :data:`OFFICIAL_TABLES`.

        The names are ``ncci-ptp``, ``mue``, ``asp-crosswalk``, ``hcpcs`` and ``ndc-directory``.

        Args:
            medicaid: Also report the tables only Medicaid claims need
                (:data:`MEDICAID_TABLES`: ``mdrp``), after the others.
        """
        names = OFFICIAL_TABLES + (MEDICAID_TABLES if medicaid else ())
        return [name for name in names if not self.loaded(name)]

    def missed(self) -> list[str]:
        """Official tables that a lookup needed during this process but that were not loaded."""
        return [n for n in OFFICIAL_TABLES + MEDICAID_TABLES if n in self.wanted]

    def with_extra_noc(self, codes: Iterable[str]) -> ReferenceData:
        """A copy that also treats ``codes`` as NOC drug codes (payer configuration)."""
        extra = frozenset(_norm(code) for code in codes if code.strip())
        return replace(self, extra_noc=self.extra_noc | extra)

    # -- code families (shipped tables) ----------------------------------------------------

    def code_facts(self, code: str) -> CodeFacts:
        """Every code-family answer below for ``code`` as sent, worked out on first use."""
        facts = self._codes.get(code)
        if facts is None:
            if len(self._codes) >= _MEMO_LIMIT:
                self._codes.clear()
            facts = self._codes[code] = self._classify(_norm(code))
        return facts

    def _classify(self, code: str) -> CodeFacts:
        """The code-family answers for a normalised code, from the shipped tables."""
        shipped = self.shipped
        immune_globulin = _in_range(code, 90281, 90399)
        vaccine_product = (
            code in shipped.vaccine_products
            or _in_range(code, 90476, 90759)
            or _in_range(code, 91300, 91399)
        )
        vaccine_kind = shipped.vaccine_products.get(code)
        if vaccine_kind is None:
            if _in_range(code, 91300, 91399):
                vaccine_kind = "covid"
            elif _in_range(code, 90476, 90759):
                vaccine_kind = "other"
        if code in shipped.drugs or immune_globulin or _J_CODE.match(code):
            drug_code = True
        elif _Q_CODE.match(code):
            drug_code = not vaccine_product and not any(
                low <= code <= high for low, high in _Q_NON_DRUG
            )
        else:
            drug_code = False
        kind = shipped.antineoplastic.get(code)
        antineoplastic: AntineoplasticKind | None = None
        if kind == "hormonal":
            antineoplastic = "hormonal"
        elif kind == "non-hormonal":
            antineoplastic = "non-hormonal"
        elif kind is None and _J_CODE.match(code) and code >= "J9000":
            antineoplastic = "non-hormonal"
        return CodeFacts(
            drug=shipped.drugs.get(code),
            drug_code=drug_code,
            immune_globulin=immune_globulin,
            vaccine_product=vaccine_product,
            vaccine_kind=vaccine_kind,
            vaccine_admin=code in shipped.vaccine_admin,
            em_family=shipped.em.get(code),
            noc=code in shipped.noc or code in self.extra_noc,
            noc_hospital_only=shipped.noc.get(code, False),
            antineoplastic=antineoplastic,
            administers=self.may_administer(code),
        )

    def em_family(self, code: str) -> str | None:
        """E/M family of a visit code (``office-outpatient``, ``emergency-department``...)."""
        return self.code_facts(code).em_family

    def is_vaccine_product(self, code: str) -> bool:
        """True for vaccine/toxoid product codes: 90476-90759, 913xx and the listed Q codes."""
        return self.code_facts(code).vaccine_product

    def vaccine_kind(self, code: str) -> str | None:
        """Vaccine kind: ``flu``, ``pneumococcal``, ``hepatitis B``, ``covid`` or ``other``.

        None when the code is not a vaccine product.
        """
        return self.code_facts(code).vaccine_kind

    def is_vaccine_admin(self, code: str) -> bool:
        """True for immunization administration codes (90460-90474, 90480, G0008-G0010)."""
        return self.code_facts(code).vaccine_admin

    def vaccine_admin_codes(self, kind: str) -> list[str]:
        """Administration codes listed for a vaccine kind (``any`` for the generic CPT codes)."""
        return [code for code, for_kind in self.shipped.vaccine_admin.items() if for_kind == kind]

    def is_immune_globulin(self, code: str) -> bool:
        """True for immune globulin / antitoxin / monoclonal product codes 90281-90399."""
        return self.code_facts(code).immune_globulin

    def facility_pos_risk(self, pos: str) -> str | None:
        """``high``, ``medium`` or ``low`` for a facility place of service; None otherwise."""
        return self.shipped.facility_pos.get(pos.strip())

    def is_pos_code(self, pos: str) -> bool | None:
        """True for a listed POS code, False when not two digits, None when unknown.

        A two-digit code missing from the shipped snapshot may be a newer CMS assignment, so it
        is reported as unknown rather than invalid.
        """
        pos = pos.strip()
        if len(pos) != 2 or not pos.isascii() or not pos.isdecimal():
            return False
        return True if pos in self.shipped.pos_codes else None

    def pos_name(self, pos: str) -> str | None:
        """CMS name of a POS code."""
        return self.shipped.pos_codes.get(pos.strip())

    def is_noc(self, code: str) -> bool:
        """True for not-otherwise-classified / unlisted drug codes, including configured ones."""
        return self.code_facts(code).noc

    def noc_billing_unit(self, code: str) -> str | None:
        """The dose a NOC code's descriptor names (J1599: ``500 mg``), else None.

        Most NOC codes (J3490, J3590, J9999) have no dose in their descriptor and are billed
        as one unit with the dose in the description; a few define a billing unit.
        """
        descriptor = self.shipped.noc_descriptors.get(_norm(code), "")
        match = _DESCRIPTOR_DOSE.search(descriptor)
        return f"{match.group(1)} {match.group(2).lower()}" if match else None

    def noc_hospital_only(self, code: str) -> bool:
        """True for NOC codes meant for hospital outpatient claims only (C9399)."""
        return self.code_facts(code).noc_hospital_only

    def antineoplastic(self, code: str) -> AntineoplasticKind | None:
        """``hormonal`` or ``non-hormonal`` for antineoplastic drug codes, else None.

        Listed codes use their table entry; any other J9000-J9999 code is non-hormonal.
        """
        return self.code_facts(code).antineoplastic

    def ndc_unit_fix(self, unit: str) -> tuple[str, FixSafety] | None:
        """Replacement for a wrong CTP05-1 unit and whether applying it is safe.

        ``MG``->``ME``, ``GM``->``GR``, ``IU``->``F2`` are safe, ``EA``->``UN`` is not; a valid
        unit in the wrong case is safely upper-cased. None when the unit is valid or unknown.
        """
        if unit in self.shipped.ndc_units_valid:
            return None
        upper = unit.strip().upper()
        if upper in self.shipped.ndc_units_valid:
            return upper, "safe"
        fix = self.shipped.ndc_unit_fixes.get(upper)
        if fix is None:
            return None
        replacement, safety = fix
        return replacement, "safe" if safety == "safe" else "unsafe"

    def _rows_of(self, code: str) -> tuple[AdministrationCode, ...]:
        """The administration rows whose code range holds ``code``, on any date."""
        rows = self._administration_rows.get(code)
        if rows is None:
            if len(self._administration_rows) >= _MEMO_LIMIT:
                self._administration_rows.clear()
            normal = _norm(code)
            rows = tuple(
                row
                for row in self.shipped.administrations
                if code_in_range(normal, row.low, row.high)
            )
            self._administration_rows[code] = rows
        return rows

    def may_administer(self, code: str) -> bool:
        """Whether ``code`` is an administration code on some date (``administration_codes.csv``).

        ``False`` settles that :meth:`administration` is ``None`` on every date, without
        reading the line's date of service.
        """
        return bool(self._rows_of(code))

    def administration(self, code: str, dos: date | None) -> AdministrationCode | None:
        """The administration-code row of ``code`` on ``dos`` (``administration_codes.csv``).

        When several rows cover the code on the date (96372 gave nirsevimab too until its own
        codes existed), the answer joins what they deliver.
        """
        candidates = self._rows_of(code)
        if not candidates:
            return None
        key = (code, dos)
        memo = self._administrations
        if key in memo:
            return memo[key]
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        normal = _norm(code)
        rows = [row for row in candidates if row.covers(normal, dos)]
        found = None
        if len(rows) == 1:
            found = rows[0]
        elif rows:
            found = replace(rows[0], delivers=frozenset().union(*(row.delivers for row in rows)))
        memo[key] = found
        return found

    def administrations_for(self, classes: frozenset[str], dos: date | None) -> list[str]:
        """The administration codes (``20610-20611``) that give a drug of these classes."""
        wanted = classes - {"injectable"} or classes
        return [
            row.low if row.low == row.high else f"{row.low}-{row.high}"
            for row in self.shipped.administrations
            if row.can_give(classes)
            and row.delivers & wanted
            and (dos is None or row.covers(row.low, dos))
        ]

    def delivery_kind(self, code: str) -> str | None:
        """What kind of non-ordinary drug ``code`` is (``drug_delivery.csv``), or None."""
        code = _norm(code)
        for row in self.shipped.drug_delivery:
            if code_in_range(code, row.low, row.high):
                return row.kind
        return None

    def drug_classes(self, code: str) -> frozenset[str]:
        """The classes of a drug code that decide which administration codes can give it.

        An ordinary drug is ``injectable``; a code of ``drug_delivery.csv`` is its kind
        (``corticosteroid`` stays injectable as well); antineoplastics and immune globulins add
        their class.
        """
        known = self._drug_classes.get(code)
        if known is not None:
            return known
        if len(self._drug_classes) >= _MEMO_LIMIT:
            self._drug_classes.clear()
        facts = self.code_facts(code)
        kind = self.delivery_kind(code)
        classes = {kind} if kind is not None else {"injectable"}
        if kind == "corticosteroid":
            classes.add("injectable")
        if facts.antineoplastic is not None:
            classes.add("antineoplastic")
        if facts.immune_globulin and kind is None:
            classes.add("immune-globulin")
        if facts.vaccine_product:
            classes = {"vaccine"}
        answer = self._drug_classes[code] = frozenset(classes)
        return answer

    def drug(self, code: str) -> DrugCode | None:
        """Billing unit and package facts of a common injectable drug code."""
        return self.code_facts(code).drug

    def is_drug_code(self, code: str) -> bool:
        """True for a drug/biological line code: J codes, drug Q codes, immune globulins.

        Q codes for services, supplies and vaccines are excluded. S codes (commercial payers)
        and C codes (hospital only) are left to the caller.
        """
        return self.code_facts(code).drug_code

    # -- NCCI (official) ---------------------------------------------------------------------

    def ptp(self, col1: str, col2: str, dos: date) -> PtpEdit | None:
        """The PTP edit with ``col1`` in column 1 and ``col2`` in column 2 in effect on ``dos``."""
        if self.ptp_table is None:
            self.wanted.add("ncci-ptp")
            return None
        return self.ptp_table.edit_on(_norm(col1), _norm(col2), dos)

    def ptp_pair(self, a: str, b: str, dos: date) -> PtpEdit | None:
        """The PTP edit between two codes in either column order, in effect on ``dos``.

        The returned edit's ``column1``/``column2`` tell which code is paid and which denied.
        When both orders have an edit, one that applies (indicator 0 or 1) wins over 9.
        """
        found = [edit for edit in (self.ptp(a, b, dos), self.ptp(b, a, dos)) if edit is not None]
        applying = [edit for edit in found if edit.modifier != 9]
        if applying:
            return applying[0]
        return found[0] if found else None

    def mue(self, code: str) -> Mue | None:
        """Practitioner MUE of a code. None when not loaded or not published (confidential)."""
        if self.mue_table is None:
            self.wanted.add("mue")
            return None
        return self.mue_table.get(_norm(code))

    # -- drugs and NDCs (official) -------------------------------------------------------------

    def crosswalk_for_ndc(self, ndc11: str) -> list[CrosswalkRow]:
        """ASP crosswalk rows of an 11-digit NDC (one NDC may map to several HCPCS codes)."""
        if self.crosswalk is None:
            self.wanted.add("asp-crosswalk")
            return []
        return list(self.crosswalk.by_ndc.get(ndc11.strip(), []))

    def crosswalk_for_hcpcs(self, code: str) -> list[CrosswalkRow]:
        """ASP crosswalk rows billed under a HCPCS code."""
        if self.crosswalk is None:
            self.wanted.add("asp-crosswalk")
            return []
        return list(self.crosswalk.by_hcpcs.get(_norm(code), []))

    def hcpcs_code(self, code: str) -> HcpcsCode | None:
        """The HCPCS Level II record of a code, when the HCPCS file is loaded."""
        if self.hcpcs is None:
            self.wanted.add("hcpcs")
            return None
        return self.hcpcs.codes.get(_norm(code))

    def hcpcs_active(self, code: str, dos: date) -> bool | None:
        """Whether a HCPCS Level II code was valid on ``dos``.

        None when no HCPCS file is loaded or the code is not a Level II code (CPT codes are not
        in the file); False when the file does not list the code or it was terminated.
        """
        code = _norm(code)
        if self.hcpcs is None:
            self.wanted.add("hcpcs")
            return None
        if not LEVEL2_CODE.match(code):
            return None
        record = self.hcpcs.codes.get(code)
        return record is not None and record.active_on(dos)

    def ndc_package(self, ndc11: str) -> NdcPackage | None:
        """The FDA Directory package of an 11-digit NDC (newest listing when re-listed)."""
        if self.ndc_directory is None:
            self.wanted.add("ndc-directory")
            return None
        records = self.ndc_directory.records(ndc11.strip())
        return records[0] if records else None

    def ndc_marketed_on(self, ndc11: str, dos: date) -> bool | None:
        """True when the NDC is in the FDA Directory and marketed on ``dos``.

        None when no directory is loaded; False when the NDC is absent or not marketed then.
        """
        if self.ndc_directory is None:
            self.wanted.add("ndc-directory")
            return None
        return any(record.marketed_on(dos) for record in self.ndc_directory.records(ndc11.strip()))

    def ndc_candidates_from_10(self, digits10: str) -> list[str]:
        """The 11-digit paddings of a bare 10-digit NDC that exist in the loaded directory.

        Exactly one candidate makes the conversion safe (R-NDC-005 SAFE+LOOKUP). Empty when no
        directory is loaded.
        """
        if self.ndc_directory is None:
            self.wanted.add("ndc-directory")
            return []
        directory = self.ndc_directory
        return [ndc for ndc in paddings_of_10(digits10.strip()) if ndc in directory]

    def medicaid_rebate_labeler(self, labeler: str, dos: date | None) -> bool | None:
        """Whether a labeler took part in the Medicaid Drug Rebate Program on ``dos``.

        True when the MDRP drug product file lists a product of the 5-digit labeler code that
        was not terminated before ``dos`` (any listed product when ``dos`` is None); False when
        the file is loaded and lists none; None when no MDRP file is loaded.
        """
        if self.mdrp is None:
            self.wanted.add("mdrp")
            return None
        code = labeler.strip()
        if code.isascii() and code.isdecimal() and len(code) < 5:
            code = code.zfill(5)
        return self.mdrp.labeler_on(code, dos)


# -- loading -----------------------------------------------------------------------------------


def _unique_by_name(sources: Iterable[Source]) -> list[Source]:
    """One source per file name, preferring an unpacked file over the same member of a zip."""
    chosen: dict[str, Source] = {}
    for source in sources:
        key = source.name.lower()
        if key not in chosen or (chosen[key].member is not None and source.member is None):
            chosen[key] = source
    return list(chosen.values())


def _file_date(source: Source) -> str:
    return f"file date {source.modified.isoformat()}"


def _info(name: str, as_of: str, source: Source, rows: int) -> TableInfo:
    return TableInfo(name, _SOURCES[name], as_of, source.path, rows, True, source.member)


def load_reference(folder: Path | None = None) -> ReferenceData:
    """Load the shipped tables and the official files found in ``folder``.

    Args:
        folder: Folder holding downloaded CMS/FDA files (plain or zipped); None for the
            shipped tables only.

    Returns:
        The reference data.

    Raises:
        ReferenceDataError: When the folder does not exist or a file named like an official
            file does not have its published layout.
    """
    shipped = shipped_tables()
    tables = list(shipped.infos)
    notes: list[str] = []
    if folder is None:
        return ReferenceData(tables, notes, shipped=shipped)
    folder = Path(folder)
    if not folder.is_dir():
        raise ReferenceDataError(str(folder), "reference folder not found")
    sources = _unique_by_name(discover(folder))
    return ReferenceData(
        tables,
        notes,
        shipped=shipped,
        ptp_table=_find_ptp(sources, tables, notes),
        mue_table=_find_mue(sources, tables, notes),
        crosswalk=_find_crosswalk(sources, tables),
        hcpcs=_find_hcpcs(sources, tables, notes),
        ndc_directory=_find_ndc(sources, tables, notes),
        mdrp=_find_mdrp(sources, tables, notes),
    )


def _find_ptp(sources: list[Source], tables: list[TableInfo], notes: list[str]) -> PtpTable | None:
    parts: dict[tuple[int, int, int], list[tuple[int, Source]]] = {}
    excel: list[Source] = []
    for source in sources:
        match = PTP_NAME.match(source.name)
        if not match:
            continue
        if source.name.lower().endswith((".xlsx", ".xls")):
            excel.append(source)
        elif source.name.lower().endswith(".txt"):
            key = (int(match["major"]), int(match["minor"]), int(match["rev"]))
            parts.setdefault(key, []).append((int(match["part"] or 0), source))
    if not parts:
        notes.extend(
            f"{source.location}: PTP Excel edition skipped (openpyxl is not a dependency); "
            "use the TXT from the same zip"
            for source in excel
        )
        return None
    latest = max(parts)
    version = f"v{latest[0]}{latest[1]}r{latest[2]}"
    table = PtpTable()
    # Parts are read in part order (f1..f4), which is code order, so no sort is needed.
    for _part, source in sorted(parts[latest], key=lambda item: item[0]):
        rows = table.read_part(source)
        as_of = f"{ptp_quarter(source.name) or 'unknown quarter'} ({version})"
        tables.append(_info("ncci-ptp", as_of, source, rows))
    table.finish()
    if table.skipped_rows:
        notes.append(f"ncci-ptp: rows not in the code/date layout skipped: {table.skipped_rows}")
    older = [
        f"v{major}{minor}r{rev}"
        for major, minor, rev in sorted(parts)
        if (major, minor, rev) != latest
    ]
    if older:
        notes.append(f"ncci-ptp: older versions ignored: {', '.join(older)}")
    return table


def _find_mue(sources: list[Source], tables: list[TableInfo], notes: list[str]) -> MueTable | None:
    candidates = [s for s in sources if MUE_NAME.search(s.name)]
    if not candidates:
        for source in sources:
            name = source.name.lower()
            if "mue" in name and "practitioner" in name and name.endswith((".xlsx", ".xls")):
                notes.append(f"{source.location}: MUE Excel edition not read; use the CSV")
        return None

    source = max(candidates, key=lambda s: mue_effective_date(s.name) or date.min)
    table = load_mue(source)
    as_of = table.effective.isoformat() if table.effective else "unknown (no Eff_ date in name)"
    tables.append(_info("mue", as_of, source, len(table)))
    return table


def _find_crosswalk(sources: list[Source], tables: list[TableInfo]) -> CrosswalkTable | None:
    def rank(source: Source) -> tuple[bool, str, date]:
        # Prefer the ASP crosswalk, then the latest quarter named in the file name
        # ("... October 2026 ASP NDC-HCPCS Crosswalk ..."), then the newest download.
        period = _NAMED_QUARTER.search(source.name)
        quarter = f"{period.group(2)}-{_QUARTER_MONTHS[period.group(1).lower()]}" if period else ""
        return (re.search(r"\basp\b", source.name, re.I) is not None, quarter, source.modified)

    candidates = [
        s
        for s in sources
        if s.name.lower().endswith(".csv")
        and "crosswalk" in s.name.lower()
        and not re.search(r"\b(awp|opps|prep)\b", s.name, re.I)
    ]
    if not candidates:
        return None
    source = max(candidates, key=rank)
    table = load_crosswalk(source)
    as_of = table.quarter or "unknown quarter"
    if table.effective:
        as_of += f" (effective {table.effective.isoformat()})"
    tables.append(_info("asp-crosswalk", as_of, source, table.rows))
    return table


def _find_hcpcs(
    sources: list[Source], tables: list[TableInfo], notes: list[str]
) -> HcpcsTable | None:
    candidates = []
    for source in sources:
        if HCPCS_TXT_NAME.match(source.name):
            with open_text(source) as handle:
                first = next((line for line in handle if line.strip()), "")
            if looks_like_hcpcs_txt(first):
                candidates.append(source)
    if not candidates:
        for source in sources:
            if HCPCS_XLSX_NAME.match(source.name):
                notes.append(
                    f"{source.location}: HCPCS Excel file skipped (openpyxl is not a dependency); "
                    "use the fixed-width TXT from the same zip"
                )
        return None

    def rank(source: Source) -> tuple[bool, str]:
        return ("ANWEB" in source.name.upper(), hcpcs_period(source.name) or "")

    source = max(candidates, key=rank)
    table = load_hcpcs_txt(source)
    tables.append(_info("hcpcs", hcpcs_period(source.name) or "unknown period", source, len(table)))
    return table


def _find_ndc(
    sources: list[Source], tables: list[TableInfo], notes: list[str]
) -> NdcDirectory | None:
    packages = [s for s in sources if PACKAGE_NAME.match(s.name)]
    products = [s for s in sources if PRODUCT_NAME.match(s.name)]
    if not packages:
        if products:
            notes.append("ndc-directory: product.txt found without package.txt; not loaded")
        return None
    directory = NdcDirectory()
    for source in products:
        rows = load_products(source, directory)
        tables.append(_info("ndc-directory", _file_date(source), source, rows))
    for source in packages:
        rows = load_packages(source, directory)
        tables.append(_info("ndc-directory", _file_date(source), source, rows))
    if directory.skipped_rows:
        notes.append(f"ndc-directory: package codes not in an NDC layout: {directory.skipped_rows}")
    return directory


def _find_mdrp(
    sources: list[Source], tables: list[TableInfo], notes: list[str]
) -> RebateTable | None:
    candidates = [s for s in sources if MDRP_NAME.match(s.name)]
    if not candidates:
        notes.extend(
            f"{source.location}: MDRP Excel edition not read; use the CSV"
            for source in sources
            if MDRP_EXCEL_NAME.match(source.name)
        )
        return None

    def rank(source: Source) -> tuple[str, date, date]:
        # The quarter in the name ("drugproducts4q_2025..."), then a re-publication
        # ("...Updated02122026"), then the newest download.
        updated = mdrp_updated(source.name) or date.min
        return (mdrp_quarter(source.name) or "", updated, source.modified)

    source = max(candidates, key=rank)
    table = load_mdrp(source)
    as_of = table.quarter or mdrp_quarter(source.name) or "unknown quarter"
    if table.first_quarter and table.first_quarter != table.quarter:
        as_of += f" (snapshots from {table.first_quarter})"
    updated = mdrp_updated(source.name)
    if updated:
        as_of += f" (updated {updated.isoformat()})"
    tables.append(_info("mdrp", as_of, source, table.rows))
    ignored = sorted(s.name for s in candidates if s is not source)
    if ignored:
        notes.append(f"mdrp: older files ignored: {', '.join(ignored)}")
    if table.skipped_rows:
        notes.append(f"mdrp: rows without a readable NDC skipped: {table.skipped_rows}")
    if table.unreadable_dates:
        notes.append(
            f"mdrp: rows with an unreadable termination or reactivation date kept as listed: "
            f"{table.unreadable_dates}"
        )
    return table
