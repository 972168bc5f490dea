"""The one-injection, one-drug pairing gives what the full pairing gives, on every claim it takes.

Most injection claims have one 96372 and one drug line; :func:`pair_single` pairs them without
the full search. Wherever it answers, over every rule case, sample and claim fixture under every
profile, its pairing must be the one :func:`pair_claim` finds, line for line and basis for basis.
"""

from __future__ import annotations

import pytest

from edi837.config import settings_from_mapping
from edi837.engine import Engine
from edi837.rules.base import CheckContext
from edi837.rules.pairing import Pair, Pairing, pair_claim, pair_single
from edi837.x837p.model import ServiceLine
from tests.test_rule_needs import DOCUMENTS, PROFILES, _claims


def _shape(pairing: Pairing) -> dict[str, object]:
    """The pairing with lines named by identity, so that equal-looking lines are not confused."""

    def ids(lines: list[ServiceLine]) -> list[int]:
        return [id(line) for line in lines]

    def pairs(found: list[Pair]) -> list[tuple[int, list[int], str]]:
        return [(id(p.injection), ids(p.drugs), p.basis) for p in found]

    return {
        "pairs": pairs(pairing.pairs),
        "administrations": pairs(pairing.administrations),
        "injections": ids(pairing.injections),
        "drugs": ids(pairing.drugs),
        "unpaired_injections": ids(pairing.unpaired_injections),
        "unpaired_drugs": ids(pairing.unpaired_drugs),
        "ambiguous": ids(pairing.ambiguous),
        "ambiguous_choices": {k: ids(v) for k, v in pairing.ambiguous_choices.items()},
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_single_pairing_agrees_with_the_full_pairing(profile: str) -> None:
    engine = Engine(settings_from_mapping({"profile": profile}))
    taken = 0
    for _name, data, _settings in DOCUMENTS:
        for claim in _claims(data):
            ctx = CheckContext(claim, engine.profile_for(claim), engine.settings, engine.refdata)
            single = pair_single(claim, ctx.kinds, engine.refdata)
            if single is None:
                continue
            taken += 1
            full = pair_claim(claim, ctx.kinds, ctx.encounters, engine.refdata)
            assert _shape(single) == _shape(full), claim.id
    assert taken > 50  # the usual injection claim is common among the cases
