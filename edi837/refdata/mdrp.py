"""Loader for the CMS "Drug Products in the Medicaid Drug Rebate Program" CSV (MDRP).

A state Medicaid program gets federal matching funds for a covered outpatient drug only when
its labeler has a national rebate agreement (SSA §1927); every drug a participating labeler
reports to CMS is listed in this file, so a labeler code (the first five digits of the NDC)
with no listed product has no agreement, and physician-administered drugs from it are denied.

Layout, as published on data.medicaid.gov / download.medicaid.gov
(``drugproducts4q_2025Updated02122026.csv``; the dataset export is
``drug-products-in-the-medicaid-drug-rebate-program.csv``):

* Confirmed from public readers of the published CSV: one header row naming ``Year``,
  ``Quarter``, ``Labeler Name``, ``NDC`` (11 digits), ``Labeler Code``, ``Product Code``,
  ``Package Size Code``, ``Drug Category``, ``Drug Type Indicator``, ``Termination Date``,
  ``Unit Type``, ``Units Per Pkg Size``, ``FDA Approval Date``, ``Market Date``, ``FDA
  Therapeutic Equivalence Code``, ``FDA Product Name``, ``Clotting Factor Indicator``,
  ``Pediatric Indicator``, then ``Package Size Intro Date``, ``Purchased Product Date``, ``COD
  Status``, ``FDA Application Number``, ``Reactivation Date`` and ``Line Extension Drug
  Indicator``. Each row carries the quarter it was reported for (``Year``/``Quarter``) and the
  file holds many quarters (about 1.9 million rows in the 2025-Q4 file). Each quarter lists
  only active drugs and drugs whose termination date falls in or after it (medicaid.gov); the
  termination date is the day the drug left the market or its last lot expired (CMS data
  definitions).
* Assumed: dates are ``MM/DD/YYYY``, as in the weekly "newly reported drugs" CSV and in a
  public script that builds the quarterly CSV from the ``MMDDYYYY`` record layout by inserting
  slashes; ``MMDDYYYY`` and ``YYYY-MM-DD`` are read too, and a date of all zeros counts as
  empty. The encoding is taken to be that of the other CMS files (Windows-1252, UTF-8 after a
  byte-order mark). The header is found by content, so a preamble, snake_case spellings
  (``labeler_code``, ``termination_date``) and the weekly file's names (``NDC1``, ``Drug
  Termination Date``) still load.

Each NDC keeps the row of the newest snapshot that lists it. Its end is that row's termination
date (none when a later reactivation date lifts it); a product that later snapshots of the same
file no longer list, without a termination date, is taken to have ended with the last quarter
that listed it (as when its labeler's rebate agreement ends). A labeler takes part on a date
when one of its products had not ended before it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter

from .model import ReferenceDataError
from .ndc import normalize_hyphenated
from .sources import Source, open_text

MDRP_NAME = re.compile(r"^drug[-_ ]?products.*\.csv$", re.I)
MDRP_EXCEL_NAME = re.compile(r"^drug[-_ ]?products?.*\.xlsx?$", re.I)
_NAME_QUARTER = re.compile(r"drug[-_ ]?products[-_ ]?([1-4])q[-_ ]?(\d{4})", re.I)
_NAME_UPDATED = re.compile(r"updated[-_ ]?(\d{2})(\d{2})(\d{4})", re.I)
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

# Header cell (upper-cased, underscores as spaces, spaces collapsed) -> field name. The weekly
# "newly reported drugs" file names the NDC segments NDC1-NDC3.
_COLUMNS = {
    "YEAR": "year",
    "QUARTER": "quarter",
    "NDC": "ndc",
    "LABELER CODE": "labeler",
    "NDC1": "labeler",
    "PRODUCT CODE": "product",
    "NDC2": "product",
    "PACKAGE SIZE CODE": "package",
    "NDC3": "package",
    "TERMINATION DATE": "termination",
    "DRUG TERMINATION DATE": "termination",
    "REACTIVATION DATE": "reactivation",
    "DRUG REACTIVATION DATE": "reactivation",
}

#: End ordinal of a product that has not ended (no termination date).
OPEN = date.max.toordinal()


def _normalise_header(cell: str) -> str:
    return re.sub(r"\s+", " ", cell.replace("_", " ")).strip().upper()


def _digits(text: str, width: int) -> str | None:
    """An NDC segment zero-padded to ``width`` (spreadsheets drop leading zeros), or None."""
    text = text.strip()
    if not text or len(text) > width or not text.isascii() or not text.isdecimal():
        return None
    return text.zfill(width)


def parse_date(text: str) -> date | None:
    """An MDRP date: ``MM/DD/YYYY``, ``MMDDYYYY`` or ``YYYY-MM-DD``; None when empty or zero.

    Raises:
        ValueError: When the text is not empty and not a date in one of those layouts.
    """
    text = text.strip()
    if not text or not text.strip("0/-"):
        return None
    if match := _SLASHED.match(text):
        month, day, year = (int(part) for part in match.groups())
    elif len(text) == 8 and text.isascii() and text.isdecimal():
        month, day, year = int(text[:2]), int(text[2:4]), int(text[4:])
    elif match := _ISO.match(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise ValueError(f"not an MDRP date: {text!r}")
    return date(year, month, day)


def _quarter_end(snapshot: int) -> int:
    """Ordinal of the last day of a snapshot quarter (``year * 4 + quarter - 1``)."""
    year, index = divmod(snapshot, 4)
    first_of_next = date(year + 1, 1, 1) if index == 3 else date(year, 3 * index + 4, 1)
    return first_of_next.toordinal() - 1


def _quarter_text(snapshot: int) -> str:
    year, index = divmod(snapshot, 4)
    return f"{year}-Q{index + 1}"


def mdrp_quarter(file_name: str) -> str | None:
    """Quarter a file name stands for (``drugproducts4q_2025Updated02122026.csv`` -> 2025-Q4)."""
    match = _NAME_QUARTER.search(file_name)
    return f"{match.group(2)}-Q{match.group(1)}" if match else None


def mdrp_updated(file_name: str) -> date | None:
    """Re-publication date in a file name (``...Updated02122026.csv`` -> 2026-02-12)."""
    match = _NAME_UPDATED.search(file_name)
    if not match:
        return None
    month, day, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass
class RebateTable:
    """Labelers of the MDRP drug product file and when their listed products ended.

    While loading, ``products`` holds one entry per 11-digit NDC: the snapshot (``year * 4 +
    quarter - 1``, 0 when the file has no Year/Quarter columns) of the newest row listing it and
    that row's end ordinal (:data:`OPEN` when none). :meth:`finish` folds them into
    ``labelers``: the latest end ordinal of each labeler's products.
    """

    products: dict[str, tuple[int, int]] = field(default_factory=dict)
    labelers: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    skipped_rows: int = 0
    unreadable_dates: int = 0
    first_snapshot: int | None = None
    last_snapshot: int | None = None

    def __len__(self) -> int:
        return len(self.labelers)

    @property
    def quarter(self) -> str | None:
        """Newest Year/Quarter snapshot in the file (``2025-Q4``), None without those columns."""
        return _quarter_text(self.last_snapshot) if self.last_snapshot else None

    @property
    def first_quarter(self) -> str | None:
        """Oldest Year/Quarter snapshot in the file."""
        return _quarter_text(self.first_snapshot) if self.first_snapshot else None

    def finish(self) -> None:
        """Fold the products into labeler end dates and drop the per-NDC index."""
        latest = self.last_snapshot or 0
        for ndc11, (snapshot, end) in self.products.items():
            if end == OPEN and 0 < snapshot < latest:
                # Listed without a termination date, then gone from later snapshots, which
                # list only active drugs: it counts through the last quarter that listed it.
                end = _quarter_end(snapshot)
            labeler = ndc11[:5]
            if end > self.labelers.get(labeler, -1):
                self.labelers[labeler] = end
        self.products = {}

    def labeler_on(self, labeler: str, dos: date | None) -> bool:
        """True when the labeler had a product not terminated before ``dos``.

        Without a service date, any listed product counts.
        """
        end = self.labelers.get(labeler)
        if end is None:
            return False
        return dos is None or end >= dos.toordinal()


def load_mdrp(source: Source) -> RebateTable:
    """Read a "Drug Products in the Medicaid Drug Rebate Program" CSV.

    Raises:
        ReferenceDataError: When no header row names the termination date together with the
            labeler code or the NDC.
    """
    table = RebateTable()
    with open_text(source) as handle:
        records = csv.reader(handle)
        for record in records:
            columns = _header(record)
            if columns is not None:
                _read_rows(table, columns, records)
                break
        else:
            raise ReferenceDataError(
                source.location,
                "no header row naming Termination Date with Labeler Code or NDC: "
                "not an MDRP drug product file",
            )
    table.finish()
    return table


def _header(record: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for index, cell in enumerate(record):
        name = _COLUMNS.get(_normalise_header(cell))
        if name is not None and name not in found:
            found[name] = index
    if "termination" in found and ("labeler" in found or "ndc" in found):
        return found
    return None


# Fields read from each data row, in the order _read_rows unpacks them.
_ROW_FIELDS = (
    "ndc",
    "labeler",
    "product",
    "package",
    "year",
    "quarter",
    "termination",
    "reactivation",
)


def _read_rows(table: RebateTable, columns: dict[str, int], records: Iterator[list[str]]) -> None:
    """Add every data row to ``table.products``, keeping the newest snapshot of each NDC.

    The quarterly file runs to millions of rows, so the published shape (an 11-digit NDC, no
    dates) takes a short path; anything else goes through the careful readers.
    """
    width = max(columns.values()) + 1
    # A column the header lacks reads the empty cell appended to every record.
    pick = itemgetter(*(columns.get(name, -1) for name in _ROW_FIELDS))
    snapshots: dict[tuple[str, str], int] = {}
    products = table.products
    rows = 0
    for record in records:
        if len(record) < width:
            if not any(cell.strip() for cell in record):
                continue
            record.extend([""] * (width - len(record)))
        record.append("")
        ndc, labeler, product, package, year, quarter, terminated, reactivated = pick(record)
        if len(ndc) != 11 or not ndc.isascii() or not ndc.isdecimal():
            found = _row_ndc(labeler, product, package, ndc)
            if found is None:
                table.skipped_rows += 1
                continue
            ndc = found
        snapshot = snapshots.get((year, quarter))
        if snapshot is None:
            snapshot = snapshots[year, quarter] = _snapshot(year, quarter)
        end = _end(table, terminated, reactivated) if terminated or reactivated else OPEN
        known = products.get(ndc)
        if known is None or snapshot > known[0] or (snapshot == known[0] and end > known[1]):
            products[ndc] = (snapshot, end)
        rows += 1
    table.rows += rows
    quarters = [snapshot for snapshot in snapshots.values() if snapshot]
    if quarters:
        table.first_snapshot, table.last_snapshot = min(quarters), max(quarters)


def _snapshot(year: str, quarter: str) -> int:
    """``year * 4 + quarter - 1`` of a row's Year/Quarter cells; 0 when they are not a quarter."""
    year4, quarter1 = _digits(year, 4), _digits(quarter, 1)
    if year4 is None or quarter1 is None or quarter1 not in "1234":
        return 0
    return int(year4) * 4 + int(quarter1) - 1


def _end(table: RebateTable, terminated: str, reactivated: str) -> int:
    """End ordinal of a product: its termination date unless a later reactivation lifts it."""
    try:
        ended = parse_date(terminated)
        back = parse_date(reactivated)
    except ValueError:
        # A date that cannot be read must not turn into a denial: keep the product listed.
        table.unreadable_dates += 1
        return OPEN
    if ended is None or (back is not None and back >= ended):
        return OPEN
    return ended.toordinal()


def _row_ndc(labeler: str, product: str, package: str, ndc: str) -> str | None:
    """The row's 11-digit NDC from the three segment columns, else from a hyphenated NDC."""
    labeler5, product4, package2 = _digits(labeler, 5), _digits(product, 4), _digits(package, 2)
    if labeler5 is not None and product4 is not None and package2 is not None:
        return labeler5 + product4 + package2
    return normalize_hyphenated(ndc)
