"""What the injection rules share: views over a line's modifiers and the SV101 rewrite.

Modifiers are SV101-3..6. A fix that changes modifiers writes each modifier position that
changes (``SV101-3`` .. ``SV101-6``, and ``SV101-7`` when a fifth modifier sat there) as its own
edit, so it composes with edits of other components (SV101-1, SV101-2) of the same segment. Two
modifier fixes on one line always share the last filled position, so the fixer applies one per
pass and the next pass re-checks the line.
"""

from __future__ import annotations

from edi837.rules.lines import DISTINCT as DISTINCT  # re-exported for the family
from edi837.x837p.model import ServiceLine

MODIFIER_POSITIONS = (3, 4, 5, 6)


def sent_modifiers(line: ServiceLine) -> list[str]:
    """SV101-3..6 as sent (empty positions kept), from one split of the composite."""
    sv1 = line.sv1
    return sv1.components(1)[2:6] if sv1 is not None else []


def modifier_ref(line: ServiceLine, wanted: set[str] | frozenset[str]) -> str:
    """The element reference (``SV101-4``) of the first modifier of ``wanted`` on the line."""
    for position, value in zip(MODIFIER_POSITIONS, sent_modifiers(line), strict=False):
        if value in wanted:
            return f"SV101-{position}"
    return "SV101-2"


def free_modifier_ref(line: ServiceLine) -> str:
    """Where a missing modifier would go: the first empty modifier position (else SV101-6)."""
    mods = sent_modifiers(line)
    for index, position in enumerate(MODIFIER_POSITIONS):
        if index >= len(mods) or not mods[index]:
            return f"SV101-{position}"
    return "SV101-6"


def line_label(line: ServiceLine) -> str:
    """``96372 (line 2)`` for messages."""
    return f"{line.code} (line {line.number})" if line.number is not None else line.code
