"""Loader for the CMS ASP NDC-HCPCS crosswalk (the "section 508 version" CSV).

The CSV opens with a title line, a quoted "Effective ... through ..." line, a disclaimer and
blank rows; the header line has moved over the years, so it is found by content: its first
cell carries the year (``_2026_CODE``) and another cell is ``NDC`` (2026) or ``NDC2`` (older
files and the CMS FAQ). NDCs are printed 5-4-2 with hyphens; some rows carry other product
ids (e.g. a 12-digit device id for J7331), which are kept but not indexed as NDCs. One NDC can
map to several HCPCS codes (Q5105/Q5106 share Retacrit packages).
"""

from __future__ import annotations

import calendar
import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from .model import CrosswalkRow, ReferenceDataError
from .ndc import normalize_hyphenated
from .sources import Source, open_text

_CODE_HEADER = re.compile(r"^_?\d{4}_CODE$", re.I)
_EFFECTIVE = re.compile(r"effective\s+([a-z]+)\s+(\d{1,2}),\s*(\d{4})", re.I)
_TITLE = re.compile(r"^\s*([a-z]+)\s+(\d{4})\s+ASP\s+NDC", re.I)
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}

# Header cell (upper-cased, spaces collapsed) -> field name.
_COLUMNS = {
    "SHORT DESCRIPTION": "short_description",
    "LABELER NAME": "labeler",
    "NDC": "ndc",
    "NDC2": "ndc",
    "DRUG NAME": "drug_name",
    "HCPCS DOSAGE": "dosage",
    "PKG SIZE": "package_size",
    "PKG QTY": "package_quantity",
    "BILLUNITS": "billable_units",
    "BILLUNITSPKG": "billable_units_per_package",
}


@dataclass
class CrosswalkTable:
    """Crosswalk rows indexed by 11-digit NDC and by HCPCS code."""

    by_ndc: dict[str, list[CrosswalkRow]] = field(default_factory=dict)
    by_hcpcs: dict[str, list[CrosswalkRow]] = field(default_factory=dict)
    rows: int = 0
    effective: date | None = None
    quarter: str | None = None

    def add(self, row: CrosswalkRow) -> None:
        """Index one row."""
        self.rows += 1
        self.by_hcpcs.setdefault(row.hcpcs, []).append(row)
        if row.ndc11 is not None:
            self.by_ndc.setdefault(row.ndc11, []).append(row)


def _decimal(text: str) -> Decimal | None:
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def _normalise_header(cell: str) -> str:
    return re.sub(r"\s+", " ", cell).strip().upper()


def _quarter(month: int, year: int) -> str:
    return f"{year}-Q{(month - 1) // 3 + 1}"


def load_crosswalk(source: Source) -> CrosswalkTable:
    """Read an ASP NDC-HCPCS crosswalk 508 CSV.

    Raises:
        ReferenceDataError: When no ``_YYYY_CODE`` header with an NDC column is found.
    """
    table = CrosswalkTable()
    columns: dict[str, int] | None = None
    with open_text(source) as handle:
        for record in csv.reader(handle):
            if not record or not any(cell.strip() for cell in record):
                continue
            if columns is None:
                _read_preamble(table, record)
                header = [_normalise_header(cell) for cell in record]
                if _CODE_HEADER.match(header[0]) and ("NDC" in header or "NDC2" in header):
                    columns = {
                        _COLUMNS[cell]: index
                        for index, cell in enumerate(header)
                        if cell in _COLUMNS
                    }
                continue
            row = _crosswalk_row(columns, record)
            if row is not None:
                table.add(row)
    if columns is None:
        raise ReferenceDataError(
            source.location, "no '_YYYY_CODE' header with an NDC column: not an ASP crosswalk"
        )
    return table


def _read_preamble(table: CrosswalkTable, record: list[str]) -> None:
    first = record[0]
    effective = _EFFECTIVE.search(first)
    if effective and effective.group(1).lower() in _MONTHS:
        month = _MONTHS[effective.group(1).lower()]
        table.effective = date(int(effective.group(3)), month, int(effective.group(2)))
        table.quarter = _quarter(month, table.effective.year)
        return
    title = _TITLE.match(first)
    if title and title.group(1).lower() in _MONTHS and table.quarter is None:
        table.quarter = _quarter(_MONTHS[title.group(1).lower()], int(title.group(2)))


def _crosswalk_row(columns: dict[str, int], record: list[str]) -> CrosswalkRow | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    hcpcs = record[0].strip().upper()
    if not hcpcs:
        return None
    product_id = cell("ndc")
    return CrosswalkRow(
        hcpcs=hcpcs,
        ndc11=normalize_hyphenated(product_id)
        if "-" in product_id or len(product_id) == 11
        else None,
        product_id=product_id,
        short_description=cell("short_description"),
        labeler=cell("labeler"),
        drug_name=cell("drug_name"),
        dosage=cell("dosage"),
        package_size=_decimal(cell("package_size")),
        package_quantity=_decimal(cell("package_quantity")),
        billable_units=_decimal(cell("billable_units")),
        billable_units_per_package=_decimal(cell("billable_units_per_package")),
    )
