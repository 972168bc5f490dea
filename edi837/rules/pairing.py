"""Pairing each CPT 96372 injection line with the drug line(s) it administered (catalogue §3).

Candidates are the 2400 lines of the same claim with the same DTP*472 date whose SV101-2 is a
drug code. With one injection on a date, it pairs with every drug line of that date. With
several, a drug line goes to the first injection that points at one of the same diagnoses
(SV107), then the rest pair by line order. What cannot be paired stays in the ``unpaired_*``
lists, so that the rules report it instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from edi837.x837p.model import Claim, ServiceLine

if TYPE_CHECKING:
    from edi837.rules.base import CheckContext

INJECTION = "96372"


@dataclass
class Pair:
    """One 96372 line and the drug lines it administered; ``basis`` says how they were matched."""

    injection: ServiceLine
    drugs: list[ServiceLine]
    basis: str  # "date" (only injection that day), "diagnosis" or "order"


@dataclass
class Pairing:
    """The pairing of one claim."""

    pairs: list[Pair] = field(default_factory=list)
    injections: list[ServiceLine] = field(default_factory=list)
    drugs: list[ServiceLine] = field(default_factory=list)
    unpaired_injections: list[ServiceLine] = field(default_factory=list)
    unpaired_drugs: list[ServiceLine] = field(default_factory=list)

    def drugs_for(self, injection: ServiceLine) -> list[ServiceLine]:
        """The drug lines paired with ``injection`` (empty when unpaired)."""
        for pair in self.pairs:
            if pair.injection is injection:
                return pair.drugs
        return []

    def injection_for(self, drug: ServiceLine) -> ServiceLine | None:
        """The 96372 line a drug line is paired with."""
        for pair in self.pairs:
            if any(d is drug for d in pair.drugs):
                return pair.injection
        return None


def pointed_diagnoses(claim: Claim, line: ServiceLine) -> set[str]:
    """The ICD-10 codes a line's SV107 pointers resolve to (bad pointers are ignored here)."""
    diagnoses = claim.diagnoses
    count = len(diagnoses)
    codes: set[str] = set()
    for pointer in line.pointers:
        # SV107 pointers are one or two digits; a longer one (4,301 digits is past Python's
        # int() limit) points at no diagnosis and is DX-002's to report.
        if pointer.isdecimal() and len(pointer) <= 2:
            position = int(pointer)
            if 1 <= position <= count:
                codes.add(diagnoses[position - 1][1])
    return codes


def pair_claim(claim: Claim, ctx: CheckContext) -> Pairing:
    """Pair the 96372 lines of ``claim`` with its drug lines, encounter by encounter."""
    result = Pairing()
    injections = ctx.injections
    if len(injections) == 1:
        # The usual claim: one 96372, and every drug line (if any) on its date.
        injection = injections[0]
        when = injection.service_date_text
        drugs = [line for line in ctx.drug_lines if line.code != INJECTION]
        if all(line.service_date_text == when for line in drugs):
            result.injections.append(injection)
            result.drugs.extend(drugs)
            if drugs:
                result.pairs.append(Pair(injection, drugs, "date"))
            else:
                result.unpaired_injections.append(injection)
            return result
    by_date: dict[str, tuple[list[ServiceLine], list[ServiceLine]]] = {}
    for line in claim.lines:
        if line.code == INJECTION:
            result.injections.append(line)
            by_date.setdefault(line.service_date_text, ([], []))[0].append(line)
        elif ctx.is_drug_line(line):
            result.drugs.append(line)
            by_date.setdefault(line.service_date_text, ([], []))[1].append(line)
    for injections, drugs in by_date.values():
        if not injections:
            result.unpaired_drugs.extend(drugs)
            continue
        if len(injections) == 1:
            if drugs:
                result.pairs.append(Pair(injections[0], list(drugs), "date"))
            else:
                result.unpaired_injections.append(injections[0])
            continue
        assigned: dict[int, list[ServiceLine]] = {id(i): [] for i in injections}
        basis: dict[int, str] = {}
        left: list[ServiceLine] = []
        for drug in drugs:
            wanted = pointed_diagnoses(claim, drug)
            for injection in injections:
                if wanted & pointed_diagnoses(claim, injection):
                    assigned[id(injection)].append(drug)
                    basis[id(injection)] = "diagnosis"
                    break
            else:
                left.append(drug)
        # Drug lines sharing no diagnosis go, in line order, to injections still without one.
        free = [i for i in injections if not assigned[id(i)]]
        for injection, drug in zip(free, left, strict=False):
            assigned[id(injection)].append(drug)
            basis[id(injection)] = "order"
        result.unpaired_drugs.extend(left[len(free) :])
        for injection in injections:
            found = assigned[id(injection)]
            if found:
                result.pairs.append(Pair(injection, found, basis[id(injection)]))
            else:
                result.unpaired_injections.append(injection)
    return result
