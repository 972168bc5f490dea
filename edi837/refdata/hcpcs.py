"""Loader for the CMS HCPCS Level II alpha-numeric file, fixed-width TXT layout.

Record layout (1-based columns): HCPC 1-5, SEQNUM 6-10, RECID 11, long description 12-91
(80-character pieces continued on RECID 4 records), short description 92-119, pricing
indicators 120-127 (4 x 2), ... ADD DT 269-276, ACT EFF DT 277-284, TERM DT 285-292,
ACTION CD 293. RECID 3 starts a code, 4 continues it, 7 and 8 are modifiers. TERM DT is blank
while the code is active. The Excel edition of the same file needs openpyxl and is not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from .model import HcpcsCode, ReferenceDataError
from .sources import Source, open_text

HCPCS_TXT_NAME = re.compile(r"^HCPC.*\.txt$", re.I)
HCPCS_XLSX_NAME = re.compile(r"^HCPC.*\.xlsx?$", re.I)
_NAME_PERIOD = re.compile(r"HCPC(\d{4})(?:_([A-Z]{3}))?", re.I)
_MONTH_QUARTER = {"JAN": 1, "APR": 2, "JUL": 3, "OCT": 4}
LEVEL2_CODE = re.compile(r"^[A-V][0-9]{4}$")

_RECORD_LENGTH = 293


def _field(line: str, first: int, last: int) -> str:
    """Columns ``first``..``last`` (1-based, inclusive), stripped."""
    return line[first - 1 : last].strip()


def _date(text: str) -> date | None:
    if len(text) != 8 or not text.isdecimal():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def hcpcs_period(file_name: str) -> str | None:
    """Quarter or year a file name stands for (``HCPC2026_OCT_ANWEB.txt`` -> ``2026-Q4``)."""
    match = _NAME_PERIOD.search(file_name)
    if not match:
        return None
    year, month = match.group(1), (match.group(2) or "").upper()
    quarter = _MONTH_QUARTER.get(month)
    return f"{year}-Q{quarter}" if quarter else year


def looks_like_hcpcs_txt(first_line: str) -> bool:
    """True when a line has the fixed-width record shape (RECID at column 11)."""
    return len(first_line.rstrip("\r\n")) >= 100 and first_line[10:11] in ("3", "4", "7", "8")


@dataclass
class HcpcsTable:
    """HCPCS Level II codes (modifiers are skipped) by code."""

    codes: dict[str, HcpcsCode] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.codes)


def _code_record(line: str) -> tuple[HcpcsCode, str]:
    """The code fields of a RECID 3 record, and its first piece of long description."""
    code = HcpcsCode(
        code=_field(line, 1, 5),
        long_description="",
        short_description=_field(line, 92, 119),
        pricing=tuple(price for i in range(4) if (price := _field(line, 120 + 2 * i, 121 + 2 * i))),
        added=_date(_field(line, 269, 276)),
        action_effective=_date(_field(line, 277, 284)),
        terminated=_date(_field(line, 285, 292)),
        action=_field(line, 293, 293),
    )
    return code, line[11:91]


def load_hcpcs_txt(source: Source) -> HcpcsTable:
    """Read the fixed-width HCPCS alpha-numeric TXT file.

    Raises:
        ReferenceDataError: When the first record does not have the fixed-width shape.
    """
    table = HcpcsTable()
    current: HcpcsCode | None = None
    pieces: list[str] = []
    checked = False

    def flush() -> None:
        if current is not None:
            # The long description is cut into 80-column pieces, possibly mid-word, so the
            # pieces are joined as printed and only then is the padding collapsed.
            description = " ".join("".join(pieces).split())
            table.codes[current.code] = replace(current, long_description=description)

    with open_text(source) as handle:
        for raw in handle:
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            if not checked:
                if not looks_like_hcpcs_txt(line):
                    raise ReferenceDataError(
                        source.location, "first record is not a fixed-width HCPCS record"
                    )
                checked = True
            line = line.ljust(_RECORD_LENGTH)
            record_id = line[10]
            if record_id == "3":
                flush()
                current, first_piece = _code_record(line)
                pieces = [first_piece]
            elif record_id == "4" and current is not None and _field(line, 1, 5) == current.code:
                pieces.append(line[11:91])
            elif record_id in ("7", "8"):
                flush()
                current, pieces = None, []
    flush()
    return table
