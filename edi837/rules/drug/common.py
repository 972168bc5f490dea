"""What the drug rules share: reading a line's NDC, its package and its crosswalk rows."""

from __future__ import annotations

import re

from edi837.refdata import ReferenceData
from edi837.refdata.model import CrosswalkRow, NdcPackage
from edi837.refdata.ndc import is_placeholder, normalize_hyphenated
from edi837.rules.base import CheckContext
from edi837.x837p.model import ServiceLine

# Spellings of the NDC qualifier that can only mean N4 ("n4", "N 4", "N-4", "NDC").
_N4_SPELLINGS = frozenset({"N4", "NDC"})
_N4_NOISE = re.compile(r"[\s.\-_]")


def intends_n4(qualifier: str) -> bool:
    """True when LIN02 is ``N4`` or a spelling that can only mean it (``n4``, ``N 4``, ``NDC``)."""
    if qualifier == "N4":
        return True
    return _N4_NOISE.sub("", qualifier).upper() in _N4_SPELLINGS


def normalize_ndc(text: str, refdata: ReferenceData) -> tuple[str | None, str]:
    """LIN03 as an 11-digit NDC, and how it was reached (catalogue R-NDC-005).

    Returns ``(ndc11, how)`` where ``how`` is ``""`` when LIN03 already is 11 digits,
    ``"format"`` when its separators say which segment to pad, and ``"directory"`` when it is a
    bare 10-digit number of which exactly one padding is in the FDA NDC Directory. ``ndc11`` is
    None when no safe conversion exists.
    """
    ndc = normalize_hyphenated(text)
    if ndc is not None:
        return ndc, "" if ndc == text else "format"
    digits = text.strip()
    if len(digits) == 10 and digits.isascii() and digits.isdecimal():
        found = list(refdata.ndc_candidates_from_10(digits))
        if len(found) == 1:
            return found[0], "directory"
    return None, ""


def line_ndc(line: ServiceLine, ctx: CheckContext) -> str | None:
    """The line's NDC as 11 digits for table lookups, or None (no N4 NDC, unusable, placeholder)."""
    drug = line.drug
    if drug is None or drug.lin is None or not intends_n4(drug.qualifier):
        return None
    ndc, _ = normalize_ndc(drug.ndc, ctx.refdata)
    if ndc is None or is_placeholder(ndc):
        return None
    return ndc


def crosswalk_rows(ndc11: str, ctx: CheckContext) -> list[CrosswalkRow]:
    """The ASP NDC-HCPCS crosswalk rows of an NDC (empty when not loaded or not listed)."""
    return list(ctx.refdata.crosswalk_for_ndc(ndc11) or ())


def ndc_package_of(ndc11: str | None, ctx: CheckContext) -> NdcPackage | None:
    """The FDA NDC Directory package of an NDC (None when not loaded or not listed)."""
    return ctx.refdata.ndc_package(ndc11) if ndc11 else None
