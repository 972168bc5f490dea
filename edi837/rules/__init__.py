"""The edit rules: the model, classification, pairing, registry and one home per family.

The model is :mod:`.base`, line classification :mod:`.lines`, pairing :mod:`.pairing`,
payer profiles :mod:`.profiles` and user settings :mod:`.settings`.

Families, in catalogue order: :mod:`.structure` (envelope, HL and structure codes the parser
reports), :mod:`.claim` (frequency, diagnosis, place of service, supervision), :mod:`.drug`
(a package: NDC, CTP, REF, drug units, NOC), :mod:`.injection` (a package: 96372, E/M,
modifiers, JW/JZ) and :mod:`.encounter` (NCCI, MUE, facility POS, vaccines, chemotherapy).
"""

from __future__ import annotations

from functools import cache

from edi837.rules import claim, codes, drug, encounter, injection, structure
from edi837.rules.base import Rule
from edi837.rules.registry import Registry

FAMILIES = (structure, claim, drug, injection, encounter, codes)


def all_rule_classes() -> list[type[Rule]]:
    """Every rule class, family by family, in catalogue order within each family."""
    classes: list[type[Rule]] = []
    for module in FAMILIES:
        classes.extend(module.RULES)
    return classes


@cache
def default_registry() -> Registry:
    """The registry of every rule (built once per process)."""
    return Registry(all_rule_classes())
