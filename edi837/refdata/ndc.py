"""NDC formats: turning printed NDCs into the 11-digit 5-4-2 form the 837P carries.

The 837P (LIN02 = ``N4``) requires an 11-digit NDC without separators, while labels and the
FDA NDC Directory print 10-digit codes with hyphens in a 4-4-2, 5-3-2 or 5-4-1 layout. The
hyphens say which segment is short, so a hyphenated NDC converts unambiguously by zero-padding
that segment (catalogue R-NDC-005). A bare 10-digit number does not say which segment is short;
:func:`paddings_of_10` lists the three readings so a caller can keep the one the FDA directory
knows (SAFE+LOOKUP). Placeholders that CMS rejects are recognised by :func:`is_placeholder`
(R-NDC-006).

The FDA has adopted 12-digit 6-4-2 NDCs from 2033-03-07 (91 FR 10749); until HIPAA adopts a
new 837 version, N4 stays 11 digits, so everything here works on 11 digits.
"""

from __future__ import annotations

import re

NDC11_LENGTH = 11

_SEGMENT_SPLIT = re.compile(r"\s*-\s*|\s+")


def is_ndc11(text: str) -> bool:
    """True when ``text`` is exactly 11 ASCII digits (the N4 form)."""
    return len(text) == NDC11_LENGTH and text.isascii() and text.isdecimal()


def normalize_hyphenated(text: str) -> str | None:
    """Convert a printed NDC with separators to 11 digits, or return None if that is unsafe.

    Accepted forms (hyphens or single spaces between segments):

    * 5-4-2: separators are dropped (``00002-7597-01`` -> ``00002759701``);
    * 4-4-2: a leading 0 is added (``0002-7597-01`` -> ``00002759701``);
    * 5-3-2: a 0 goes in front of the product segment (``50242-040-62`` -> ``50242004062``);
    * 5-4-1: a 0 goes in front of the package segment (``60575-4112-1`` -> ``60575411201``);
    * a label's ``*`` placeholder standing at the start of one segment, where the padding
      zero belongs, becomes ``0`` (``50242-*040-62`` -> ``50242004062``);
    * 11 bare digits are returned unchanged.

    A bare 10-digit number is ambiguous and returns None (see :func:`paddings_of_10`), as does
    anything else.

    Args:
        text: The NDC as printed or as found in LIN03.

    Returns:
        The 11-digit NDC, or None when the text does not convert without guessing.
    """
    candidate = text.strip()
    if not candidate or not candidate.isascii():
        return None
    if candidate.isdecimal():
        return candidate if len(candidate) == NDC11_LENGTH else None
    segments = _SEGMENT_SPLIT.split(candidate)
    if len(segments) != 3:
        return None
    stars = candidate.count("*")
    if stars > 1:
        return None
    if stars == 1:
        # The placeholder marks the padding position printed on some labels; it is only
        # unambiguous as the first character of a segment.
        if not any(seg.startswith("*") and "*" not in seg[1:] for seg in segments):
            return None
        segments = [seg.replace("*", "0") for seg in segments]
    if not all(seg.isdecimal() for seg in segments):
        return None
    labeler, product, package = segments
    shape = (len(labeler), len(product), len(package))
    if shape == (5, 4, 2):
        return labeler + product + package
    if shape == (4, 4, 2):
        return "0" + labeler + product + package
    if shape == (5, 3, 2):
        return labeler + "0" + product + package
    if shape == (5, 4, 1):
        return labeler + product + "0" + package
    return None


def paddings_of_10(digits10: str) -> list[str]:
    """The 11-digit readings of a bare 10-digit NDC, one per 10-digit layout.

    Order: 4-4-2 (leading 0), 5-3-2 (0 at position 6), 5-4-1 (0 at position 10). Duplicates
    are removed. Anything other than 10 ASCII digits gives an empty list.

    Args:
        digits10: Ten digits with no separators.

    Returns:
        The distinct candidate 11-digit NDCs.
    """
    if len(digits10) != 10 or not digits10.isascii() or not digits10.isdecimal():
        return []
    readings = [
        "0" + digits10,
        digits10[:5] + "0" + digits10[5:],
        digits10[:9] + "0" + digits10[9:],
    ]
    return list(dict.fromkeys(readings))


def is_placeholder(ndc11: str) -> bool:
    """True for the filler NDCs CMS rejects: all 9s, 99999999992-99999999996, all zeros."""
    if not is_ndc11(ndc11):
        return False
    if ndc11 in ("00000000000", "99999999999"):
        return True
    return "99999999992" <= ndc11 <= "99999999996"


def format_542(ndc11: str) -> str:
    """Print an 11-digit NDC with hyphens (``00002-7597-01``) for messages."""
    if not is_ndc11(ndc11):
        raise ValueError(f"not an 11-digit NDC: {ndc11!r}")
    return f"{ndc11[:5]}-{ndc11[5:9]}-{ndc11[9:]}"
