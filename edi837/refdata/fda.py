"""Loader for the FDA NDC Directory text files (``product.txt`` and ``package.txt``).

Both are tab-delimited with a header row, Windows-1252, from ``ndctext.zip``; the excluded
products list (``Products_excluded.txt`` / ``Packages_excluded.txt``) has the same columns and
is read the same way when present. NDCs are printed as 10 digits with hyphens (4-4-2, 5-3-2 or
5-4-1) and are stored here as 11 digits. Marketing dates are ``YYYYMMDD``; an empty end date
means none is listed. A package code can appear twice (re-listing), so each NDC keeps every
record. The package description names single-dose and single-use containers, which the JW/JZ
rules need (R-JWZ-001).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .model import NdcPackage, ReferenceDataError
from .ndc import normalize_hyphenated
from .sources import Source, open_text

PRODUCT_NAME = re.compile(r"^products?(_excluded)?\.txt$", re.I)
PACKAGE_NAME = re.compile(r"^packages?(_excluded)?\.txt$", re.I)
_SINGLE_DOSE = re.compile(r"SINGLE[- ]?(DOSE|USE)", re.I)

# Product fields kept per PRODUCTID: product NDC, proprietary name (with suffix),
# nonproprietary name, dosage form, strength, labeler, start and end marketing dates.
_Product = tuple[str, str, str, str, str, str, date | None, date | None]
# Package record: package code as printed, description, start, end, product id,
# exclude flag, sample flag.
_Package = tuple[str, str, date | None, date | None, str, str, bool]


def _date(text: str) -> date | None:
    text = text.strip()
    if len(text) != 8 or not text.isdecimal():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _strength(amounts: str, units: str) -> str:
    """Pair multi-ingredient strengths with their units (both are split by ``; ``)."""
    pairs = zip(amounts.split(";"), units.split(";"), strict=False)
    return "; ".join(f"{amount.strip()} {unit.strip()}".strip() for amount, unit in pairs)


def is_single_dose(description: str) -> bool:
    """True when an FDA package description names a single-dose or single-use container."""
    return _SINGLE_DOSE.search(description) is not None


@dataclass
class NdcDirectory:
    """Package NDCs (11 digits) with their products."""

    packages: dict[str, list[_Package]] = field(default_factory=dict)
    products: dict[str, _Product] = field(default_factory=dict)
    package_rows: int = 0
    product_rows: int = 0
    skipped_rows: int = 0

    def __len__(self) -> int:
        return len(self.packages)

    def __contains__(self, ndc11: object) -> bool:
        return ndc11 in self.packages

    def records(self, ndc11: str) -> list[NdcPackage]:
        """Every listing of the package NDC, newest start date first."""
        found = [self._join(ndc11, record) for record in self.packages.get(ndc11, [])]
        return sorted(found, key=lambda p: p.start or date.min, reverse=True)

    def _join(self, ndc11: str, record: _Package) -> NdcPackage:
        code, description, start, end, product_id, exclude_flag, sample = record
        product = self.products.get(product_id)
        if product is None:
            return NdcPackage(
                ndc11=ndc11,
                start=start,
                end=end,
                description=description,
                single_dose=is_single_dose(description),
                package_code=code,
                exclude_flag=exclude_flag,
                sample=sample,
            )
        product_ndc, brand, generic, form, strength, labeler, p_start, p_end = product
        # A package without its own marketing dates inherits the product's.
        return NdcPackage(
            ndc11=ndc11,
            start=start or p_start,
            end=end or p_end,
            description=description,
            single_dose=is_single_dose(description),
            package_code=code,
            product_ndc=product_ndc,
            proprietary_name=brand,
            nonproprietary_name=generic,
            dosage_form=form,
            strength=strength,
            labeler=labeler,
            exclude_flag=exclude_flag,
            sample=sample,
        )


def _header_index(source: Source, header: list[str], required: tuple[str, ...]) -> dict[str, int]:
    index = {name.strip().upper(): position for position, name in enumerate(header)}
    missing = [name for name in required if name not in index]
    if missing:
        raise ReferenceDataError(source.location, f"header lacks {', '.join(missing)}")
    return index


class _Row:
    """One tab-delimited data line read through the header's column positions."""

    __slots__ = ("cells", "columns")

    def __init__(self, cells: list[str], columns: dict[str, int]) -> None:
        self.cells = cells
        self.columns = columns

    def get(self, name: str) -> str:
        position = self.columns.get(name)
        if position is None or position >= len(self.cells):
            return ""
        return self.cells[position].strip()


def load_products(source: Source, directory: NdcDirectory) -> int:
    """Add a ``product.txt`` (or excluded products) file to ``directory``.

    Returns:
        The number of product rows read.

    Raises:
        ReferenceDataError: When no header row naming PRODUCTID and PRODUCTNDC is found.
    """
    columns: dict[str, int] | None = None
    before = directory.product_rows
    with open_text(source) as handle:
        for raw in handle:
            cells = raw.rstrip("\r\n").split("\t")
            if columns is None:
                upper = [cell.strip().upper() for cell in cells]
                if "PRODUCTID" in upper and "PRODUCTNDC" in upper:
                    columns = _header_index(source, cells, ("PRODUCTID", "PRODUCTNDC"))
                continue
            row = _Row(cells, columns)

            product_id = row.get("PRODUCTID")
            if not product_id:
                continue
            names = (row.get("PROPRIETARYNAME"), row.get("PROPRIETARYNAMESUFFIX"))
            directory.products[product_id] = (
                row.get("PRODUCTNDC"),
                " ".join(name for name in names if name),
                row.get("NONPROPRIETARYNAME"),
                row.get("DOSAGEFORMNAME"),
                _strength(row.get("ACTIVE_NUMERATOR_STRENGTH"), row.get("ACTIVE_INGRED_UNIT")),
                row.get("LABELERNAME"),
                _date(row.get("STARTMARKETINGDATE")),
                _date(row.get("ENDMARKETINGDATE")),
            )
            directory.product_rows += 1
    if columns is None:
        raise ReferenceDataError(source.location, "no PRODUCTID/PRODUCTNDC header row")
    return directory.product_rows - before


def load_packages(source: Source, directory: NdcDirectory) -> int:
    """Add a ``package.txt`` (or excluded packages) file to ``directory``.

    Returns:
        The number of package rows read.

    Raises:
        ReferenceDataError: When no header row naming NDCPACKAGECODE is found.
    """
    columns: dict[str, int] | None = None
    before = directory.package_rows
    with open_text(source) as handle:
        for raw in handle:
            cells = raw.rstrip("\r\n").split("\t")
            if columns is None:
                upper = [cell.strip().upper() for cell in cells]
                if "NDCPACKAGECODE" in upper:
                    columns = _header_index(source, cells, ("NDCPACKAGECODE", "PACKAGEDESCRIPTION"))
                continue
            row = _Row(cells, columns)

            code = row.get("NDCPACKAGECODE")
            if not code:
                continue
            ndc11 = normalize_hyphenated(code)
            if ndc11 is None:
                directory.skipped_rows += 1
                continue
            record: _Package = (
                code,
                row.get("PACKAGEDESCRIPTION"),
                _date(row.get("STARTMARKETINGDATE")),
                _date(row.get("ENDMARKETINGDATE")),
                row.get("PRODUCTID"),
                row.get("NDC_EXCLUDE_FLAG"),
                row.get("SAMPLE_PACKAGE").upper() == "Y",
            )
            directory.packages.setdefault(ndc11, []).append(record)
            directory.package_rows += 1
    if columns is None:
        raise ReferenceDataError(source.location, "no NDCPACKAGECODE header row")
    return directory.package_rows - before
