"""Typed records handed out by the reference data: edits, limits, crosswalk rows, packages.

This module owns the value types that rules receive from :class:`edi837.refdata.ReferenceData`
lookups, the provenance record of each loaded table, and the error raised when an official
file does not match its published layout. Everything here is immutable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

#: Official (complete, quarterly or daily) tables, in the order ``missing()`` reports them.
OFFICIAL_TABLES: tuple[str, ...] = ("ncci-ptp", "mue", "asp-crosswalk", "hcpcs", "ndc-directory")

#: Official tables only Medicaid claims need (the MDRP rebate labelers), reported by
#: ``missing(medicaid=True)`` after :data:`OFFICIAL_TABLES`.
MEDICAID_TABLES: tuple[str, ...] = ("mdrp",)

VaccineKind = Literal["flu", "pneumococcal", "hepatitis B", "covid", "other"]
AntineoplasticKind = Literal["hormonal", "non-hormonal"]
FixSafety = Literal["safe", "unsafe"]


class ReferenceDataError(Exception):
    """An official or shipped reference file does not have the layout this package expects.

    Attributes:
        path: The file (or ``archive.zip!member``) that failed.
        reason: What was wrong, in one line.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TableInfo:
    """Where one loaded table came from and which period it reflects.

    Attributes:
        name: Table name, e.g. ``ncci-ptp`` or ``em-codes``.
        source: Publisher and document or page title.
        as_of: Quarter or date the content reflects (``2026-Q3``, ``2026-07-01``...).
        path: File the table was read from (the archive, for a member of a zip file).
        member: Member name inside ``path`` when it was read from a zip archive.
        rows: Number of data rows loaded.
        full: True for a complete official file, False for a shipped partial table.
    """

    name: str
    source: str
    as_of: str
    path: Path
    rows: int
    full: bool
    member: str | None = None

    @property
    def location(self) -> str:
        """The file, or ``archive.zip!member``, as one string for messages."""
        return f"{self.path}!{self.member}" if self.member else str(self.path)


def code_in_range(code: str, low: str, high: str) -> bool:
    """``code`` lies in ``low``..``high``: same length and letter, numeric part in range.

    HCPCS and CPT codes are five characters; a range such as ``G0008``-``G0010`` or
    ``96401``-``96402`` holds only codes of its own shape, so ``J7030`` is not in a CPT range.
    """
    if len(code) != len(low) or not code.isascii() or not code.isalnum():
        return False
    if low[0].isalpha() != code[0].isalpha() or (low[0].isalpha() and low[0] != code[0]):
        return False
    return low <= code.upper() <= high


@dataclass(frozen=True, slots=True)
class AdministrationCode:
    """A range of procedure codes that administer drugs, and what they can deliver.

    Attributes:
        low: First code of the range (``96365``).
        high: Last code of the range (``96368``).
        route: How the drug goes in (``SC/IM``, ``IV``, ``intra-articular`` ...).
        delivers: The drug classes the codes administer (see ``drug_delivery.csv``).
        per_unit: One unit administers one drug (96372), rather than any number of drugs.
        valid_from: First date of service the row applies to (None: always).
        valid_through: Last date of service the row applies to (None: still valid).
        what: A paraphrase of the codes' descriptors.
        source: Where the row comes from.
    """

    low: str
    high: str
    route: str
    delivers: frozenset[str]
    per_unit: bool
    valid_from: date | None
    valid_through: date | None
    what: str
    source: str

    def can_give(self, classes: frozenset[str]) -> bool:
        """The codes can administer a drug of these classes (``ReferenceData.drug_classes``).

        A drug given only intravenously needs an administration that is intravenous too:
        96401/96402 deliver antineoplastics, but only SC/IM ones.
        """
        if "iv-only" in classes and "iv-only" not in self.delivers:
            return False
        return bool(self.delivers & classes)

    def covers(self, code: str, dos: date | None) -> bool:
        """The row applies to ``code`` on date of service ``dos`` (unknown dates: always)."""
        if not code_in_range(code, self.low, self.high):
            return False
        if dos is None:
            return True
        if self.valid_from is not None and dos < self.valid_from:
            return False
        return self.valid_through is None or dos <= self.valid_through


@dataclass(frozen=True, slots=True)
class DrugDelivery:
    """A range of drug codes that are not ordinary SC/IM/IV injectables (``drug_delivery.csv``).

    Attributes:
        low: First code of the range.
        high: Last code of the range.
        kind: ``iv-fluid``, ``device``, ``hyaluronan``, ``oral``, ``intravitreal``,
            ``rsv-antibody``, ``iv-only`` or ``corticosteroid``.
        route: The route(s) of administration.
        what: The drugs of the range.
        source: Where the row comes from.
    """

    low: str
    high: str
    kind: str
    route: str
    what: str
    source: str


@dataclass(frozen=True, slots=True)
class DrugCode:
    """A HCPCS drug code with the billing unit its descriptor defines.

    Attributes:
        code: HCPCS Level II code, e.g. ``J1885``.
        unit_quantity: Amount of drug in one billing unit (15 for "per 15 mg").
        unit: Unit of that amount: ``MG``, ``MCG``, ``G``, ``ML``, ``UNITS``, ``USP UNITS``,
            ``IU``, or ``NOC`` for not-otherwise-classified codes without a billing unit.
        up_to: True when the descriptor says "up to" (one unit covers any dose up to it).
        descriptor: Short form of the HCPCS long descriptor.
        form: Usual dosage form: ``solution``, ``powder``, ``suspension`` or ``varies``.
        single_dose: ``yes``, ``no`` or ``mixed`` (both package types are marketed; decide
            per NDC from the FDA package description).
    """

    code: str
    unit_quantity: Decimal
    unit: str
    up_to: bool
    descriptor: str
    form: str
    single_dose: str

    @property
    def has_billing_unit(self) -> bool:
        """False for NOC codes, whose descriptor defines no dose per unit."""
        return self.unit != "NOC"


@dataclass(frozen=True, slots=True)
class PtpEdit:
    """One NCCI procedure-to-procedure edit row (one date window of a column1/column2 pair).

    Attributes:
        column1: Column 1 code (the code that is paid).
        column2: Column 2 code (the code that is denied when the edit applies).
        effective: First date the edit applies.
        deletion: Last date the edit applies, or None while it is still active (``*``).
        modifier: 0 = no modifier bypasses it, 1 = an NCCI-associated modifier bypasses it,
            9 = the edit does not apply (deleted on the day it took effect).
        rationale: PTP edit rationale text from the file.
        pre_1996: True when the file flags the edit as in existence before 1996.
    """

    column1: str
    column2: str
    effective: date
    deletion: date | None
    modifier: int
    rationale: str
    pre_1996: bool = False

    def in_effect(self, dos: date) -> bool:
        """True when ``dos`` falls inside the edit's effective/deletion window."""
        return self.effective <= dos and (self.deletion is None or dos <= self.deletion)


@dataclass(frozen=True, slots=True)
class Mue:
    """A practitioner Medically Unlikely Edit.

    Attributes:
        code: HCPCS/CPT code.
        value: Maximum units of service; 0 is a real value (no units payable).
        mai: MUE adjudication indicator: 1 = per claim line, 2 = per date of service
            (policy, absolute), 3 = per date of service (clinical, appealable).
        mai_text: The indicator text from the file (``2 Date of Service Edit: Policy``).
        rationale: MUE rationale from the file.
    """

    code: str
    value: int
    mai: int
    mai_text: str
    rationale: str


@dataclass(frozen=True, slots=True)
class CrosswalkRow:
    """One row of the CMS ASP NDC-HCPCS crosswalk.

    Attributes:
        hcpcs: HCPCS code the product is billed under.
        ndc11: 11-digit NDC without hyphens, or None when the row carries a non-NDC id.
        product_id: The identifier exactly as printed (hyphenated NDC or other id).
        short_description: HCPCS short description.
        labeler: Labeler name.
        drug_name: Drug (brand) name.
        dosage: HCPCS dosage, i.e. the billing unit (``10 MG``).
        package_size: Amount in one package (PKG SIZE).
        package_quantity: Number of packages in the NDC's unit of sale (PKG QTY).
        billable_units: Billable units per package (BILLUNITS).
        billable_units_per_package: Billable units per NDC unit of sale (BILLUNITSPKG).
    """

    hcpcs: str
    ndc11: str | None
    product_id: str
    short_description: str
    labeler: str
    drug_name: str
    dosage: str
    package_size: Decimal | None
    package_quantity: Decimal | None
    billable_units: Decimal | None
    billable_units_per_package: Decimal | None


@dataclass(frozen=True, slots=True)
class HcpcsCode:
    """One HCPCS Level II code from the CMS alpha-numeric file.

    Attributes:
        code: The code.
        long_description: Long descriptor (continuation records joined).
        short_description: Short descriptor.
        pricing: Pricing indicator codes (``51`` = drugs, ``54`` = vaccinations...).
        added: Date the code was added.
        action_effective: Effective date of the latest action.
        terminated: Termination date, or None while the code is active.
        action: Latest action code (A, B, C, D, F, N, P, R, S, T).
    """

    code: str
    long_description: str
    short_description: str
    pricing: tuple[str, ...]
    added: date | None
    action_effective: date | None
    terminated: date | None
    action: str

    def active_on(self, dos: date) -> bool:
        """True when the code was valid on ``dos``."""
        if self.added is not None and dos < self.added:
            return False
        return self.terminated is None or dos <= self.terminated


@dataclass(frozen=True, slots=True)
class NdcPackage:
    """One package NDC from the FDA NDC Directory, joined with its product.

    Attributes:
        ndc11: 11-digit NDC (5-4-2 without hyphens).
        start: Package (else product) start marketing date.
        end: Package (else product) end marketing date; None when none is listed.
        description: FDA package description (levels joined by ``  / ``).
        single_dose: True when the description names a single-dose or single-use container.
        package_code: NDCPACKAGECODE exactly as printed (10 digits with hyphens).
        product_ndc: PRODUCTNDC as printed.
        proprietary_name: Brand name.
        nonproprietary_name: Generic name.
        dosage_form: FDA dosage form name.
        strength: Active numerator strength and unit (``40 mg/mL``).
        labeler: Labeler name.
        exclude_flag: NDC_EXCLUDE_FLAG (``N`` for listed products; E/I/U/D in the excluded file).
        sample: True for a sample package.
    """

    ndc11: str
    start: date | None
    end: date | None
    description: str
    single_dose: bool
    package_code: str = ""
    product_ndc: str = ""
    proprietary_name: str = ""
    nonproprietary_name: str = ""
    dosage_form: str = ""
    strength: str = ""
    labeler: str = ""
    exclude_flag: str = ""
    sample: bool = False

    def marketed_on(self, dos: date) -> bool:
        """True when ``dos`` lies inside the marketing window."""
        if self.start is not None and dos < self.start:
            return False
        return self.end is None or dos <= self.end
