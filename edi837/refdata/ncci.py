r"""Loaders for the CMS NCCI practitioner PTP edits and practitioner MUE tables.

PTP (``ccipra-vNNNrN-fN.TXT``): tab-delimited, seven fields, a preamble of wrapped header
lines found by content (the row whose first cell is ``Column 1``; the continuation lines have
an empty first cell). A column1/column2 pair can repeat with separate effective/deletion
windows, and deleted edits stay in the file. The quarterly file has four parts of 600-675k
rows each, so rows are packed into two parallel ``array('Q')`` columns (pair key, window),
sorted by key and searched by bisection: about 16 bytes per edit instead of a few hundred for
dict-of-tuples.

MUE (``MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv``): a quoted multi-line AMA notice,
then a header whose first cell contains a line break (``"HCPCS/\\nCPT Code"``). The adjudication
indicator cell is a digit followed by text. The effective date is only in the file name.
"""

from __future__ import annotations

import csv
import re
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date

from .model import Mue, PtpEdit, ReferenceDataError
from .sources import Source, open_text

PTP_NAME = re.compile(
    r"^ccipra-v(?P<major>\d{2})(?P<minor>\d)r(?P<rev>\d+)(?:-f(?P<part>\d+))?", re.I
)
MUE_NAME = re.compile(r"mue.*practitioner.*\.csv$", re.I)
_MUE_DATE = re.compile(r"eff_(\d{2})-(\d{2})-(\d{4})", re.I)
_CODE = re.compile(r"^[0-9A-Z]{5}$")
_DATE8 = re.compile(r"^\d{8}$")
_MODIFIERS = ("0", "1", "9")

# Packed window layout (low to high bits): pre-1996 flag (1), rationale index (10),
# modifier indicator (4), deletion date ordinal or 0 (20), effective date ordinal (20).
_RATIONALE_BITS = 10
_MAX_RATIONALES = 1 << _RATIONALE_BITS
_DATE_MASK = (1 << 20) - 1


def _code_number(code: str) -> int | None:
    """Map a 5-character code to an int that sorts like the code (digits before letters)."""
    if not _CODE.match(code):
        return None
    number = 0
    for char in code:
        number = number * 36 + (ord(char) - 48 if char <= "9" else ord(char) - 55)
    return number


def _pair_key(column1: str, column2: str) -> int | None:
    first, second = _code_number(column1), _code_number(column2)
    if first is None or second is None:
        return None
    return (first << 26) | second


def _parse_date8(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def ptp_quarter(file_name: str) -> str | None:
    """Quarter an NCCI file version stands for: ``v322r0`` is version 32.2 = 2026-Q3.

    NCCI major version N is calendar year 1994 + N and the minor digit 0-3 is the quarter.
    """
    match = PTP_NAME.match(file_name)
    if not match:
        return None
    minor = int(match["minor"])
    if minor > 3:
        return None
    return f"{1994 + int(match['major'])}-Q{minor + 1}"


@dataclass
class PtpTable:
    """Practitioner PTP edits, packed for memory and searched by (column1, column2)."""

    keys: array[int] = field(default_factory=lambda: array("Q"))
    windows: array[int] = field(default_factory=lambda: array("Q"))
    rationales: list[str] = field(default_factory=list)
    # Rows whose codes are not 5 alphanumerics (not expected in CMS files) keep a plain dict.
    odd_pairs: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    skipped_rows: int = 0
    _rationale_index: dict[str, int] = field(default_factory=dict)
    _ordinals: dict[str, int | None] = field(default_factory=dict)
    _numbers: dict[str, int | None] = field(default_factory=dict)
    _sorted: bool = True

    def __len__(self) -> int:
        return len(self.keys) + sum(len(windows) for windows in self.odd_pairs.values())

    def _rationale(self, text: str) -> int:
        index = self._rationale_index.get(text)
        if index is None:
            index = len(self.rationales)
            if index >= _MAX_RATIONALES:
                raise ValueError("too many distinct PTP rationale texts")
            self.rationales.append(text)
            self._rationale_index[text] = index
        return index

    def ordinal(self, text: str) -> int | None:
        """Date ordinal of ``YYYYMMDD`` (0 for ``*``), or None when not a date; cached."""
        if text in self._ordinals:
            return self._ordinals[text]
        ordinal: int | None = None
        if text == "*":
            ordinal = 0
        elif _DATE8.match(text):
            try:
                ordinal = _parse_date8(text).toordinal()
            except ValueError:
                ordinal = None
        self._ordinals[text] = ordinal
        return ordinal

    def number(self, code: str) -> int | None:
        """Sortable number of a code (see :func:`_code_number`), cached."""
        if code not in self._numbers:
            self._numbers[code] = _code_number(code)
        return self._numbers[code]

    def append(self, column1: str, column2: str, packed: int) -> None:
        """Append one packed window for a pair."""
        first, second = self.number(column1), self.number(column2)
        if first is None or second is None:
            self.odd_pairs.setdefault((column1, column2), []).append(packed)
            return
        key = (first << 26) | second
        if self.keys and key < self.keys[-1]:
            self._sorted = False
        self.keys.append(key)
        self.windows.append(packed)

    def read_part(self, source: Source) -> int:
        """Add one PTP TXT part (call :meth:`finish` after the last part).

        Returns:
            The number of edit rows read from this part.

        Raises:
            ReferenceDataError: When the file has no ``Column 1`` header row.
        """
        before = len(self)
        header_seen = False
        # Up to 675,000 rows per part: the loop keeps lookups in locals and caches the few
        # distinct dates, codes and rationales instead of parsing them row by row.
        ordinals, numbers, rationale_of = self._ordinals, self._numbers, self._rationale_index
        keys, windows = self.keys, self.windows
        last_key = keys[-1] if keys else -1
        with open_text(source) as handle:
            for line in handle:
                cells = line.rstrip("\r\n").split("\t")
                if not header_seen:
                    heading = re.sub(r"\s+", " ", cells[0]).strip().lower()
                    if heading in ("column 1", "column1") and len(cells) >= 7:
                        header_seen = True
                    continue
                column1 = cells[0].strip().upper()
                if not column1:
                    continue  # wrapped header lines and blank lines
                if len(cells) < 7:
                    self.skipped_rows += 1
                    continue
                column2 = cells[1].strip().upper()
                effective_text, deletion_text = cells[3].strip(), cells[4].strip()
                modifier = cells[5].strip()
                effective = ordinals.get(effective_text)
                if effective is None and effective_text not in ordinals:
                    effective = self.ordinal(effective_text)
                deletion = ordinals.get(deletion_text)
                if deletion is None and deletion_text not in ordinals:
                    deletion = self.ordinal(deletion_text)
                if not effective or deletion is None or not column2 or modifier not in _MODIFIERS:
                    self.skipped_rows += 1
                    continue
                rationale_text = cells[6].strip()
                rationale = rationale_of.get(rationale_text)
                if rationale is None:
                    rationale = self._rationale(rationale_text)
                packed = (
                    (effective << 35)
                    | (deletion << 15)
                    | (int(modifier) << 11)
                    | (rationale << 1)
                    | (cells[2].strip() == "*")
                )
                number1, number2 = numbers.get(column1), numbers.get(column2)
                if number1 is None or number2 is None:
                    # First sight of a code (or a code outside the 5-character shape).
                    self.append(column1, column2, packed)
                    last_key = keys[-1] if keys else -1
                    continue
                key = (number1 << 26) | number2
                if key < last_key:
                    self._sorted = False
                keys.append(key)
                windows.append(packed)
                last_key = key
        if not header_seen:
            raise ReferenceDataError(
                source.location, "no 'Column 1' header row: not a PTP edit file"
            )
        return len(self) - before

    def finish(self) -> None:
        """Sort by pair key if the parts were not read in code order."""
        if self._sorted:
            return
        order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        self.keys = array("Q", (self.keys[i] for i in order))
        self.windows = array("Q", (self.windows[i] for i in order))
        self._sorted = True

    def _unpack(self, column1: str, column2: str, packed: int) -> PtpEdit:
        deletion = (packed >> 15) & _DATE_MASK
        return PtpEdit(
            column1=column1,
            column2=column2,
            effective=date.fromordinal((packed >> 35) & _DATE_MASK),
            deletion=date.fromordinal(deletion) if deletion else None,
            modifier=(packed >> 11) & 0xF,
            rationale=self.rationales[(packed >> 1) & (_MAX_RATIONALES - 1)],
            pre_1996=bool(packed & 1),
        )

    def edits(self, column1: str, column2: str) -> list[PtpEdit]:
        """Every date window of the pair, in exact column order."""
        key = _pair_key(column1, column2)
        if key is None:
            return [
                self._unpack(column1, column2, p)
                for p in self.odd_pairs.get((column1, column2), [])
            ]
        found: list[PtpEdit] = []
        index = bisect_left(self.keys, key)
        while index < len(self.keys) and self.keys[index] == key:
            found.append(self._unpack(column1, column2, self.windows[index]))
            index += 1
        return found

    def edit_on(self, column1: str, column2: str, dos: date) -> PtpEdit | None:
        """The pair's edit in effect on ``dos``; the latest-effective one if windows overlap."""
        current = [edit for edit in self.edits(column1, column2) if edit.in_effect(dos)]
        return max(current, key=lambda edit: edit.effective) if current else None


def load_ptp(sources: list[Source], table: PtpTable | None = None) -> PtpTable:
    """Read one or more practitioner PTP TXT parts into a :class:`PtpTable`.

    Args:
        sources: The ``ccipra-*.TXT`` parts of one version, in part order.
        table: A table to add to (a new one when None).

    Returns:
        The table, sorted and ready for lookups.

    Raises:
        ReferenceDataError: When a file has no ``Column 1`` header row.
    """
    table = table if table is not None else PtpTable()
    for source in sources:
        table.read_part(source)
    table.finish()
    return table


@dataclass
class MueTable:
    """Practitioner MUE values by code."""

    values: dict[str, tuple[int, int, str, str]] = field(default_factory=dict)
    effective: date | None = None

    def __len__(self) -> int:
        return len(self.values)

    def get(self, code: str) -> Mue | None:
        """The MUE of ``code``, or None when the file does not publish one."""
        entry = self.values.get(code)
        if entry is None:
            return None
        value, mai, mai_text, rationale = entry
        return Mue(code, value, mai, mai_text, rationale)


def mue_effective_date(file_name: str) -> date | None:
    """Effective date from an MUE file name (``..._Eff_07-01-2026.csv`` -> 2026-07-01)."""
    match = _MUE_DATE.search(file_name)
    if not match:
        return None
    month, day, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def load_mue(source: Source) -> MueTable:
    """Read a practitioner MUE CSV.

    The header row is the record whose first cell mentions HCPCS and whose other cells include
    the MUE value and adjudication indicator columns; everything before it is the notice.

    Raises:
        ReferenceDataError: When no header row or no value/indicator column is found.
    """
    table = MueTable(effective=mue_effective_date(source.name))
    columns: dict[str, int] | None = None
    with open_text(source) as handle:
        for record in csv.reader(handle):
            if not record or not any(cell.strip() for cell in record):
                continue
            if columns is None:
                squashed = [_squash(cell) for cell in record]
                if "hcpcs" in squashed[0] and any("adjudication" in c for c in squashed):
                    columns = _mue_columns(source, squashed)
                continue
            _add_mue_row(table, columns, record)
    if columns is None:
        raise ReferenceDataError(source.location, "no 'HCPCS/CPT Code' header row: not an MUE file")
    return table


def _mue_columns(source: Source, header: list[str]) -> dict[str, int]:
    def find(*words: str) -> int | None:
        for index, cell in enumerate(header):
            if all(word in cell for word in words):
                return index
        return None

    value = find("mue value")
    mai = find("adjudication")
    rationale = find("rationale")
    if value is None or mai is None:
        raise ReferenceDataError(source.location, "MUE header lacks the value or indicator column")
    return {"value": value, "mai": mai, "rationale": rationale if rationale is not None else -1}


def _add_mue_row(table: MueTable, columns: dict[str, int], record: list[str]) -> None:
    code = record[0].strip().upper()
    if not code:
        return
    try:
        value = int(record[columns["value"]].strip())
    except (ValueError, IndexError):
        return
    mai_text = record[columns["mai"]].strip() if columns["mai"] < len(record) else ""
    mai_match = re.match(r"\s*([123])\b", mai_text)
    if not mai_match:
        return
    rationale_index = columns["rationale"]
    rationale = record[rationale_index].strip() if 0 <= rationale_index < len(record) else ""
    table.values[code] = (value, int(mai_match.group(1)), mai_text, rationale)
