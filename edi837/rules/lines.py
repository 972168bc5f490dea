"""Line classification: which 2400 lines of a claim are 96372, drug, NOC, E/M or vaccine lines.

It reads the claim model and the reference data only, so that pairing and the rules can share
it without depending on the rule context. One pass over the lines sorts them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from edi837.refdata import ReferenceData
from edi837.refdata.reference import CodeFacts
from edi837.rules.needs import Need
from edi837.rules.profiles import Profile
from edi837.x837p.model import Claim, ServiceLine

INJECTION = "96372"


@dataclass(init=False)
class LineKinds:
    """The lines of one claim, sorted once by what they bill (each list in line order)."""

    injections: list[ServiceLine]
    drug_lines: list[ServiceLine]
    noc_lines: list[ServiceLine]
    em_lines: list[ServiceLine]
    vaccine_lines: list[ServiceLine]
    provider_lines: list[ServiceLine]
    drug_by_line: dict[int, bool]
    #: What the claim carries, as :class:`~edi837.rules.needs.Need` bits (which rules can fire).
    needs: int

    # Explicit, so that the compiled build compiles it: a generated __init__ stays interpreted.
    def __init__(self) -> None:
        self.injections = []
        self.drug_lines = []
        self.noc_lines = []
        self.em_lines = []
        self.vaccine_lines = []
        self.provider_lines = []
        self.drug_by_line = {}
        self.needs = 0

    def is_drug_line(self, line: ServiceLine) -> bool:
        """Whether a line of this claim is a drug line (see :func:`is_drug_code`)."""
        return self.drug_by_line.get(id(line), False)


def is_drug_code(code: str, refdata: ReferenceData, profile: Profile) -> bool:
    """A drug or biological code (catalogue §3).

    HCPCS Level II J-codes and drug Q-codes (not Q-codes for services, supplies or vaccines),
    S-codes of the drug table for commercial payers, immune globulins 90281-90399, and any code
    in the injectable-drug table. C-codes are hospital-only.
    """
    return _is_drug(code, refdata.code_facts(code), profile)


def _is_drug(code: str, facts: CodeFacts, profile: Profile) -> bool:
    """:func:`is_drug_code` from the code's facts, already looked up."""
    if len(code) == 5 and code[0] == "S":
        # S-codes are drugs only for commercial payers, and only those the table knows.
        return profile is Profile.COMMERCIAL and facts.drug is not None
    return bool(code) and facts.drug_code


# The bits of :class:`Need` as plain ints: the classification sets them once per line.
_INJECTION = int(Need.INJECTION)
_DRUG = int(Need.DRUG)
_NDC_LOOP = int(Need.NDC_LOOP)
_NOC = int(Need.NOC)
_EM = int(Need.EM)
_VACCINE = int(Need.VACCINE)
_VACCINE_ADMIN = int(Need.VACCINE_ADMIN)
_LINE_PROVIDER = int(Need.LINE_PROVIDER)
_SUPERVISOR = int(Need.SUPERVISOR)
_MODIFIER = int(Need.MODIFIER)
_WASTAGE_MODIFIER = int(Need.WASTAGE_MODIFIER)
_CORRECTION = int(Need.CORRECTION)
_MISPLACED_25 = int(Need.MISPLACED_25)
_DISTINCT_MODIFIER = int(Need.DISTINCT_MODIFIER)
_DRUG_WITHOUT_NDC = int(Need.DRUG_WITHOUT_NDC)
_SEVERAL_INJECTIONS = int(Need.SEVERAL_INJECTIONS)
_SEVERAL_INJECTION_UNITS = int(Need.SEVERAL_INJECTION_UNITS)
_NDC_ON_INJECTION = int(Need.NDC_ON_INJECTION)
_NDC_REF = int(Need.NDC_REF)
_JW = int(Need.JW)
_WASTAGE_ON_PROCEDURE = int(Need.WASTAGE_ON_PROCEDURE)
_TELEHEALTH = int(Need.TELEHEALTH)
_EM_WITHOUT_25 = int(Need.EM_WITHOUT_25)
_ANTINEOPLASTIC = int(Need.ANTINEOPLASTIC)
_SEVERAL_ADMINISTRATIONS = int(Need.SEVERAL_ADMINISTRATIONS)
_WASTAGE = frozenset({"JW", "JZ"})
#: Modifiers CMS accepts for a distinct procedural service (CR 8863): 59 and its X{EPSU} subsets.
DISTINCT = frozenset({"59", "XE", "XP", "XS", "XU"})
#: The telehealth places of service (CMS POS code set): 02 other than in the patient's home, 10
#: in the patient's home. A practitioner billing with them was not with the patient.
TELEHEALTH_POS = frozenset({"02", "10"})
# CLM05-3 of a replacement (7) or a void (8): both repeat an original claim.
_CORRECTIONS = frozenset({"7", "8"})


def classify_lines(
    claim: Claim, refdata: ReferenceData, profile: Profile, extra_noc: frozenset[str]
) -> LineKinds:
    """Sort the lines of ``claim`` into 96372, drug, NOC drug, E/M, vaccine and provider lines.

    The same pass records what the claim carries (``needs``), for the rules that declare what
    they look at.
    """
    kinds = LineKinds()
    code_facts = refdata.code_facts
    needs = 0
    administrations = 0
    claim_pos = claim.place_of_service
    antineoplastic = refdata.shipped.antineoplastic
    if claim.frequency in _CORRECTIONS:
        needs |= _CORRECTION
    if claim.supervising is not None:
        needs |= _SUPERVISOR
    for line in claim.lines:
        code = line.code
        facts = code_facts(code)
        is_drug = _is_drug(code, facts, profile)
        kinds.drug_by_line[id(line)] = is_drug
        modifiers = line.modifier_codes
        if code == INJECTION:
            kinds.injections.append(line)
            needs |= _INJECTION
            units = line.units
            if units is not None and units > 1:
                needs |= _SEVERAL_INJECTION_UNITS
            if line.drug is not None:
                needs |= _NDC_ON_INJECTION
        if is_drug:
            kinds.drug_lines.append(line)
            needs |= _DRUG
            if facts.antineoplastic is not None or code in antineoplastic:
                needs |= _ANTINEOPLASTIC
        elif modifiers and not modifiers.isdisjoint(_WASTAGE):
            needs |= _WASTAGE_ON_PROCEDURE
        if code and facts.administers:
            administrations += 1
        if (line.place_of_service or claim_pos) in TELEHEALTH_POS:
            needs |= _TELEHEALTH
        if code and line.sv1 is not None and (code in extra_noc or facts.noc):
            kinds.noc_lines.append(line)
            needs |= _NOC
        if code and facts.em_family:
            kinds.em_lines.append(line)
            needs |= _EM
            if "25" not in modifiers:
                needs |= _EM_WITHOUT_25
        if code == "99211":
            needs |= _EM_WITHOUT_25
        if facts.vaccine_product:
            kinds.vaccine_lines.append(line)
            needs |= _VACCINE
        if facts.vaccine_admin:
            needs |= _VACCINE_ADMIN
        if line.rendering is not None or line.supervising is not None:
            kinds.provider_lines.append(line)
            needs |= _LINE_PROVIDER
            if line.supervising is not None:
                needs |= _SUPERVISOR
        if line.drug is not None:
            needs |= _NDC_LOOP
            if line.drug.ref is not None:
                needs |= _NDC_REF
        elif is_drug:
            needs |= _DRUG_WITHOUT_NDC
        if modifiers:
            needs |= _MODIFIER
            if not modifiers.isdisjoint(_WASTAGE):
                needs |= _WASTAGE_MODIFIER
                if "JW" in modifiers:
                    needs |= _JW
            if not modifiers.isdisjoint(DISTINCT):
                needs |= _DISTINCT_MODIFIER
            if "25" in modifiers and (is_drug or code == INJECTION):
                needs |= _MISPLACED_25
    if len(kinds.injections) > 1:
        needs |= _SEVERAL_INJECTIONS
    if administrations > 1:
        needs |= _SEVERAL_ADMINISTRATIONS
    kinds.needs = needs
    return kinds


def encounter_key(claim: Claim, line: ServiceLine) -> tuple[str, str]:
    """Same claim (so same patient), same DTP*472 date as sent, same rendering NPI (§0)."""
    return (line.service_date_text, claim.rendering_npi(line))


def group_encounters(claim: Claim, kinds: LineKinds) -> list[list[ServiceLine]]:
    """The lines of ``claim`` grouped by encounter, groups in the order of their first line.

    The rendering NPI is the line's 2420A, else the claim's 2310B, else the billing provider
    (:meth:`~edi837.x837p.model.Claim.rendering_npi`), so two clinicians of a group practice
    seeing the patient on one day are two encounters.
    """
    groups: dict[tuple[str, str], list[ServiceLine]] = {}
    # Without a line-level 2420A every line has the claim's rendering NPI: the date decides.
    same_npi = all(line.rendering is None for line in kinds.provider_lines)
    for line in claim.lines:
        key = (line.service_date_text, "") if same_npi else encounter_key(claim, line)
        group = groups.get(key)
        if group is None:
            group = groups[key] = []
        group.append(line)
    return list(groups.values())
