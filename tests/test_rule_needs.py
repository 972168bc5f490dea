"""Rules that declare what they need: the engine's skipping never loses a finding.

The engine runs a rule only under the profiles where :meth:`Rule.active` says it can report
and on the claims that carry its declared ``needs``. Here every rule runs on every claim of
every rule case, sample and claim fixture, under every profile, without that gating; each
finding must come from a claim and profile the engine would have run the rule on, so skipping
rules changes no result.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edi837.config import settings_from_mapping
from edi837.engine import Engine
from edi837.rules.base import CheckContext
from edi837.rules.claim import VOID
from edi837.rules.needs import Need, describe
from edi837.x12.reader import SegmentReader, X12SyntaxError
from edi837.x837p.builder import UnitReader
from edi837.x837p.model import Claim
from tests.rulecases import all_cases, as_bytes

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("auto", "medicare", "medicaid", "commercial")


def _documents() -> Iterator[tuple[str, bytes, dict[str, object]]]:
    for case in all_cases():
        yield case.id, case.document.encode(), dict(case.settings)
    for folder in (ROOT / "samples", ROOT / "tests" / "fixtures"):
        for path in sorted(folder.rglob("*.837")):
            yield str(path.relative_to(ROOT)), path.read_bytes(), {}


def _claims(data: bytes) -> Iterator[Claim]:
    try:
        for unit in UnitReader(SegmentReader(as_bytes(data.decode("latin-1")))):
            if unit.claim is not None:
                yield unit.claim
    except (X12SyntaxError, UnicodeError):
        return  # a fixture of bad input: its claims before the fault were checked


def _ungated_misses(engine: Engine, claim: Claim, reported: set[str]) -> list[str]:
    """Each finding the engine's gating would have skipped, as ``CODE: why``.

    The codes of the rules that reported are added to ``reported``.
    """
    profile = engine.profile_for(claim)
    ctx = CheckContext(claim, profile, engine.settings, engine.refdata)
    void = claim.frequency == VOID
    misses: list[str] = []
    for rule in engine.claim_rules:
        if void and not rule.applies_to_void:
            continue
        if not list(rule.check(claim, ctx)):
            continue
        reported.add(rule.code)
        if not rule.active(profile, engine.settings, engine.refdata):
            misses.append(f"{rule.code}: reported under {profile.value}, where it is not active")
        lacking = Need(int(rule.needs) & ~ctx.kinds.needs)
        if lacking:
            misses.append(f"{rule.code}: reported on claim {claim.id} without {describe(lacking)}")
    return misses


DOCUMENTS = list(_documents())


@pytest.mark.parametrize("profile", PROFILES)
def test_no_rule_reports_where_the_engine_would_skip_it(profile: str) -> None:
    misses: list[str] = []
    reported: set[str] = set()
    engines: dict[str, Engine] = {}
    for name, data, settings in DOCUMENTS:
        key = repr(sorted(settings.items()))
        engine = engines.get(key)
        if engine is None:
            engine = engines[key] = Engine(settings_from_mapping({**settings, "profile": profile}))
        for claim in _claims(data):
            misses.extend(f"{name}: {miss}" for miss in _ungated_misses(engine, claim, reported))
    assert misses == []
    # The documents exercise the rules: most claim rules report somewhere under each profile.
    claim_rules = {rule.code for rule in Engine().claim_rules}
    assert len(reported) > len(claim_rules) // 2
