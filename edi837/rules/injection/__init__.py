"""Rules of the injection family: the 96372 line, the E/M beside it, line modifiers and JW/JZ.

Catalogue §4-5. These rules read one claim at a time. "Same encounter" is the same claim (so the
same patient), the same DTP*472 date as sent, and the same rendering NPI
(:meth:`~edi837.x837p.model.Claim.rendering_npi`: 2420A, else 2310B, else 2010AA). The
injection-to-drug pairing is the shared one of :mod:`edi837.rules.pairing` (``ctx.pairing``).

One module per rule group: :mod:`.inj` (the 96372 line), :mod:`.em` (the E/M beside it),
:mod:`.modifiers` (MOD) and :mod:`.jwz` (JW/JZ); :mod:`.common` holds what they share.
"""

from __future__ import annotations

from edi837.rules.base import Rule
from edi837.rules.injection.em import EM001, EM002
from edi837.rules.injection.inj import (
    INJ001,
    INJ002,
    INJ003,
    INJ004,
    INJ005,
    INJ006,
    INJ007,
)
from edi837.rules.injection.jwz import JWZ001, JWZ002, JWZ003, JWZ004
from edi837.rules.injection.modifiers import MOD001, MOD002, MOD003

RULES: list[type[Rule]] = [
    INJ001,
    INJ002,
    INJ003,
    INJ004,
    INJ005,
    INJ006,
    INJ007,
    EM001,
    EM002,
    MOD001,
    MOD002,
    MOD003,
    JWZ001,
    JWZ002,
    JWZ003,
    JWZ004,
]
