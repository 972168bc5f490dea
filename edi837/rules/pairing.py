"""Pairing each drug line with the administration line that gave it (catalogue §3).

A drug belongs to the administration that gave it: 96372 gives SC/IM drugs, 96401/96402 SC/IM
chemotherapy, 96365-96379 IV drugs, 96409-96417 IV chemotherapy, 20550-20611 joint and tendon
injections, 11981-11983 and 58300 implants and IUDs, 67028 intravitreal drugs, 96380/96381 RSV
monoclonal antibodies; the shipped ``administration_codes.csv`` says which code delivers which
drug class, and ``drug_delivery.csv`` which drugs are not ordinary injectables (IV fluids,
contraceptive devices, hyaluronans, oral drugs, IV-only antineoplastics).

Candidates are the administration lines of the drug's encounter (same claim, so same patient;
same DTP*472 date; same rendering NPI) that can deliver the drug. When several can, the
diagnosis pointers (SV107) decide where they tell them apart, then the administration that
names the drug's class (96402 for leuprolide rather than 96372, 20610 for triamcinolone in a
joint), then line order. An administration billed per unit (96372) gives one drug per unit. A
drug its encounter cannot place goes to an administration of the same date under another
rendering provider (basis ``date``; INJ-006 reports the provider mismatch). What cannot be
placed stays unpaired, and what was placed by line order between different codes is listed as
ambiguous, so that the rules report it instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

from edi837.refdata import ReferenceData
from edi837.refdata.model import AdministrationCode
from edi837.rules.lines import INJECTION as INJECTION  # re-exported: 96372 is named here too
from edi837.rules.lines import LineKinds
from edi837.x837p.model import Claim, ServiceLine

# An administration not billed per unit (an infusion, a push of a mixture) gives any number.
_UNLIMITED = 1 << 30


@dataclass
class Pair:
    """One administration line and the drug lines it gave; ``basis`` says how they were matched.

    ``basis`` is ``encounter`` (the only administration that could give them), ``diagnosis``,
    ``drug class``, ``order`` or ``date`` (an administration of another rendering provider on
    the same date).
    """

    injection: ServiceLine
    drugs: list[ServiceLine]
    basis: str


@dataclass(init=False)
class Pairing:
    """The pairing of one claim.

    ``pairs`` and ``unpaired_injections`` are about 96372 lines; ``administrations`` holds
    every administration line (96372 included) with its drugs, empty or not.
    """

    pairs: list[Pair]
    administrations: list[Pair]
    injections: list[ServiceLine]
    drugs: list[ServiceLine]
    unpaired_injections: list[ServiceLine]
    unpaired_drugs: list[ServiceLine]
    ambiguous: list[ServiceLine]
    # For each ambiguous drug line (by id), the administration lines of different codes that
    # could all have given it; the first is the one line order chose.
    ambiguous_choices: dict[int, list[ServiceLine]]

    # Explicit, so that the compiled build compiles it: a generated __init__ stays interpreted.
    def __init__(
        self,
        pairs: list[Pair] | None = None,
        administrations: list[Pair] | None = None,
        injections: list[ServiceLine] | None = None,
        drugs: list[ServiceLine] | None = None,
    ) -> None:
        self.pairs = [] if pairs is None else pairs
        self.administrations = [] if administrations is None else administrations
        self.injections = [] if injections is None else injections
        self.drugs = [] if drugs is None else drugs
        self.unpaired_injections = []
        self.unpaired_drugs = []
        self.ambiguous = []
        self.ambiguous_choices = {}

    def drugs_for(self, injection: ServiceLine) -> list[ServiceLine]:
        """The drug lines paired with an administration line (empty when unpaired)."""
        for pair in self.administrations:
            if pair.injection is injection:
                return pair.drugs
        return []


def pointed_diagnoses(claim: Claim, line: ServiceLine) -> set[str]:
    """The ICD-10 codes a line's SV107 pointers resolve to (bad pointers are ignored here)."""
    diagnoses = claim.diagnoses
    count = len(diagnoses)
    codes: set[str] = set()
    for pointer in line.pointers:
        if pointer.isdecimal() and len(pointer) <= 2:  # SV107 is N0 1/2
            position = int(pointer)
            if 1 <= position <= count:
                codes.add(diagnoses[position - 1][1])
    return codes


def _capacity(line: ServiceLine, row: AdministrationCode) -> int:
    """How many drugs the line can give: its whole units when billed per unit, else any."""
    if not row.per_unit:
        return _UNLIMITED
    units = line.units
    if units is None or units < 1 or units != units.to_integral_value():
        return 1  # INJ-001 reports the count; one injection gave at least one drug
    return int(units)


class _Pairer:
    """The state of pairing one claim: what each administration can still take."""

    def __init__(self, claim: Claim, refdata: ReferenceData) -> None:
        self.claim = claim
        self.refdata = refdata
        self.rows: dict[int, AdministrationCode] = {}
        self.room: dict[int, int] = {}
        self.given: dict[int, list[ServiceLine]] = {}
        self.basis: dict[int, str] = {}
        self.ambiguous: list[ServiceLine] = []
        self.choices: dict[int, list[ServiceLine]] = {}

    def add_administration(self, line: ServiceLine, row: AdministrationCode) -> None:
        self.rows[id(line)] = row
        self.room[id(line)] = _capacity(line, row)
        self.given[id(line)] = []

    def candidates(
        self, drug: ServiceLine, admins: list[ServiceLine]
    ) -> tuple[list[ServiceLine], str]:
        """The administrations that can give ``drug``, narrowed as far as the claim allows."""
        classes = self.refdata.drug_classes(drug.code)
        found = [a for a in admins if self.rows[id(a)].can_give(classes)]
        how = "encounter"
        if len(found) > 1:
            wanted = pointed_diagnoses(self.claim, drug)
            shared = [a for a in found if wanted & pointed_diagnoses(self.claim, a)]
            if shared and len(shared) < len(found):
                found, how = shared, "diagnosis"
        if len(found) > 1:
            # An administration that names the drug's own class (96402 for a hormonal
            # antineoplastic, 20610 for a corticosteroid) wins over one that takes any drug.
            specific = classes - {"injectable"}
            named = [a for a in found if self.rows[id(a)].delivers & specific]
            if named and len(named) < len(found):
                found, how = named, "drug class"
        return found, how

    def assign(
        self, drugs: list[ServiceLine], admins: list[ServiceLine], basis: str | None
    ) -> list[ServiceLine]:
        """Give each drug to an administration with room; return the drugs left over."""
        options = [(drug, *self.candidates(drug, admins)) for drug in drugs]
        # Drugs with fewer choices go first, so that a choice never takes another's only one.
        options.sort(key=lambda option: len(option[1]))
        left: list[ServiceLine] = []
        for drug, found, how in options:
            free = [a for a in found if self.room[id(a)] > 0]
            if not free:
                left.append(drug)
                continue
            if len(free) > 1:
                how = "order"
                if len({a.code for a in free}) > 1:
                    self.ambiguous.append(drug)
                    self.choices[id(drug)] = free
            target = free[0]
            self.room[id(target)] -= 1
            self.given[id(target)].append(drug)
            previous = self.basis.get(id(target))
            self.basis[id(target)] = basis or (how if previous in (None, "encounter") else previous)
        return left


def pair_single(claim: Claim, kinds: LineKinds, refdata: ReferenceData) -> Pairing | None:
    """The pairing of the usual injection claim, or ``None`` when :func:`pair_claim` must decide.

    One 96372, one drug line, no other administration line, both in one encounter (same
    DTP*472 date as sent, same rendering NPI), and a drug 96372 can give: the drug can only
    be this 96372's, with nothing to narrow or order (basis ``encounter``). This is what
    :func:`pair_claim` finds for such a claim, without building its tables.
    """
    if len(kinds.injections) != 1 or len(kinds.drug_lines) != 1:
        return None
    injection = kinds.injections[0]
    drug = kinds.drug_lines[0]
    for line in claim.lines:
        if line is not injection and line.code and refdata.may_administer(line.code):
            return None  # another administration (or a drug code that is one) could give it
    if drug.service_date_text != injection.service_date_text:
        return None
    # Without a 2420A on either line both fall back to the same claim-level provider.
    own_provider = injection.rendering is not None or drug.rendering is not None
    if own_provider and claim.rendering_npi(drug) != claim.rendering_npi(injection):
        return None
    row = refdata.administration(INJECTION, injection.service_date)
    if row is None or not row.can_give(refdata.drug_classes(drug.code)):
        return None
    pair = Pair(injection, [drug], "encounter")
    return Pairing(pairs=[pair], administrations=[pair], injections=[injection], drugs=[drug])


def pair_claim(
    claim: Claim,
    kinds: LineKinds,
    encounters: list[list[ServiceLine]],
    refdata: ReferenceData,
) -> Pairing:
    """Pair the drug lines of ``claim`` with its administration lines, encounter by encounter."""
    result = Pairing()
    if not kinds.drug_lines:
        # Nothing to pair: every 96372 stands alone (INJ-002's case).
        result.injections = list(kinds.injections)
        result.unpaired_injections = list(kinds.injections)
        return result
    pairer = _Pairer(claim, refdata)
    administrations: list[ServiceLine] = []
    for line in claim.lines:
        code = line.code
        # Most lines are in no administration range: their date need not be read.
        administers = bool(code) and refdata.may_administer(code)
        row = refdata.administration(code, line.service_date) if administers else None
        if row is not None:
            pairer.add_administration(line, row)
            administrations.append(line)
        if line.code == INJECTION:
            result.injections.append(line)
        elif row is None and kinds.is_drug_line(line):
            result.drugs.append(line)
    left: list[ServiceLine] = []
    for encounter in encounters:
        admins = [line for line in encounter if id(line) in pairer.rows]
        drugs = [
            line for line in encounter if id(line) not in pairer.rows and kinds.is_drug_line(line)
        ]
        if drugs:
            left.extend(pairer.assign(drugs, admins, None) if admins else drugs)
    unpaired: list[ServiceLine] = []
    for drug in left:
        # Another rendering provider's administration on the same date (INJ-006 says so).
        same_date = [a for a in administrations if a.service_date_text == drug.service_date_text]
        unpaired.extend(pairer.assign([drug], same_date, "date") if same_date else [drug])
    order = {id(line): index for index, line in enumerate(claim.lines)}
    result.unpaired_drugs = sorted(unpaired, key=lambda line: order[id(line)])
    result.ambiguous = sorted(pairer.ambiguous, key=lambda line: order[id(line)])
    result.ambiguous_choices = pairer.choices
    for line in administrations:
        given = sorted(pairer.given[id(line)], key=lambda d: order[id(d)])
        pair = Pair(line, given, pairer.basis.get(id(line), "encounter"))
        result.administrations.append(pair)
        if line.code == INJECTION:
            if given:
                result.pairs.append(pair)
            else:
                result.unpaired_injections.append(line)
    return result
