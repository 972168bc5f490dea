"""The rule model: :class:`Rule`, payer :class:`Profile`, :class:`Settings`, :class:`CheckContext`.

A rule is a class whose name is its catalogue code without the dash (``NDC004`` is ``NDC-004``)
and whose docstring is its documentation: the first line is the summary, then the sections
``What it does``, ``Why it matters``, ``Fix safety``, ``Example`` and ``Sources`` (and
``Options`` where configuration changes it). ``check`` yields findings for one claim and never
changes it; a finding may carry a :class:`~edi837.findings.Fix`.

Rules that the parser itself reports (envelope, HL and structure codes) are declared here too,
with ``scope = "structure"`` and no ``check``, so that selection, severity overrides and the
documentation treat every code alike.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity
from edi837.rules.pairing import INJECTION, Pairing, pair_claim
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, Loop, ServiceLine, cached_value

if TYPE_CHECKING:
    from edi837.refdata import ReferenceData


class Profile(StrEnum):
    """The payer profile a claim is checked under (catalogue §0)."""

    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"

    @classmethod
    def from_filing_indicator(cls, sbr09: str) -> Profile:
        """``auto``: SBR09 ``MB`` is Medicare Part B, ``MC`` Medicaid, anything else commercial."""
        if sbr09 == "MB":
            return cls.MEDICARE
        if sbr09 == "MC":
            return cls.MEDICAID
        return cls.COMMERCIAL


class FixAvailability(StrEnum):
    """What kind of fix a rule can offer (ruff's ``FIX_AVAILABILITY``)."""

    NONE = "none"
    SAFE = "safe"
    UNSAFE = "unsafe"
    SOMETIMES = "sometimes"


# Where NDCs are required on drug lines, per profile (catalogue R-NDC-002): Medicaid on every
# J/Q line in practice; commercial plans vary (configurable); Medicare Part B for NOC codes only.
DEFAULT_NDC_POLICY: dict[Profile, str] = {
    Profile.MEDICARE: "noc",
    Profile.MEDICAID: "all",
    Profile.COMMERCIAL: "noc",
}


@dataclass
class Settings:
    """Everything a user can configure (``edi837.toml``, command-line options).

    Attributes:
        select: codes or prefixes to run (``None``: all).
        ignore: codes or prefixes not to run.
        severity: per-code severity overrides.
        profile: ``auto`` or a forced profile name.
        payer_profiles: profile per payer id (2010BB NM109), applied under ``auto``.
        facility_pos: the facility place-of-service codes (``None``: the shipped table).
        extra_noc: more codes to treat as NOC/unlisted drugs.
        ndc_policy: per profile, ``all`` (every drug line needs an NDC), ``noc`` or ``none``.
        jwz_profiles: profiles whose payer requires JW/JZ on single-dose drugs.
        drug_line_required: profiles whose payer requires a drug line with every 96372.
        remove_25_safe: whether removing modifier 25 from a non-E/M line is a safe fix.
        refdata: folder of official reference files.
    """

    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    profile: str = "auto"
    payer_profiles: dict[str, Profile] = field(default_factory=dict)
    facility_pos: frozenset[str] | None = None
    extra_noc: frozenset[str] = frozenset()
    ndc_policy: dict[Profile, str] = field(default_factory=lambda: dict(DEFAULT_NDC_POLICY))
    jwz_profiles: frozenset[Profile] = frozenset({Profile.MEDICARE})
    drug_line_required: frozenset[Profile] = frozenset()
    remove_25_safe: bool = True
    refdata: str | None = None


_SECTION = re.compile(r"^(What it does|Why it matters|Fix safety|Example|Sources|Options):\s*$")
DOC_SECTIONS = ("What it does", "Why it matters", "Fix safety", "Example", "Sources")


def _parse_doc(doc: str) -> tuple[str, dict[str, str]]:
    lines = textwrap.dedent(doc).strip("\n").splitlines()
    summary = lines[0].strip() if lines else ""
    # The first line of a class docstring carries no indentation; dedent the rest on its own.
    body = textwrap.dedent("\n".join(lines[1:])).splitlines()
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in body:
        match = _SECTION.match(line.strip()) if not line.startswith(" ") else None
        if match:
            current = match.group(1)
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return summary, {k: textwrap.dedent("\n".join(v)).strip() for k, v in sections.items()}


_CODE = re.compile(r"^([A-Z]+)(\d{3})$")


class Rule:
    """Base class of every rule; subclasses are named by code and documented by docstring."""

    code: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    docs: ClassVar[dict[str, str]] = {}
    severity: ClassVar[Severity] = Severity.WARNING
    severity_by_profile: ClassVar[dict[Profile, Severity]] = {}
    fix: ClassVar[FixAvailability] = FixAvailability.NONE
    scope: ClassVar[str] = "claim"
    family: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        match = _CODE.match(cls.__name__)
        if match is None:
            return  # an intermediate base class, not a rule
        cls.code = f"{match.group(1)}-{match.group(2)}"
        cls.summary, cls.docs = _parse_doc(cls.__doc__ or "")

    def default_severity(self, profile: Profile) -> Severity:
        """The catalogue severity under ``profile``."""
        return self.severity_by_profile.get(profile, self.severity)

    def check(self, claim: Claim, ctx: CheckContext) -> Iterable[Finding]:
        """Yield the findings of this rule for one claim (structure rules yield nothing)."""
        return ()


@dataclass
class CheckContext:
    """What a rule may read while checking one claim: profile, settings, reference data, pairing.

    It also holds what several rules derive from the same claim, worked out on first use and
    shared: which lines are drug lines and which are 96372 lines, the encounters (lines of the
    same DTP*472 date and rendering NPI) and the 96372-to-drug-line pairing.
    """

    claim: Claim
    profile: Profile
    settings: Settings
    refdata: ReferenceData
    _pairing: Pairing | None = None
    _loops: dict[int, tuple[str, ServiceLine | None]] | None = None
    _drug_lines: dict[int, bool] = field(default_factory=dict)
    _encounter_of: dict[int, list[ServiceLine]] = field(default_factory=dict)

    @property
    def pairing(self) -> Pairing:
        """The 96372-to-drug-line pairing of this claim (computed once, shared by all rules)."""
        if self._pairing is None:
            self._pairing = pair_claim(self.claim, self)
        return self._pairing

    def _sort_lines(self) -> None:
        """Sort the lines once into 96372, drug, NOC drug, E/M, vaccine and provider lines.

        The lists are stored in the instance dictionary, where the properties that call this
        method find them from then on.
        """
        injections: list[ServiceLine] = []
        drugs: list[ServiceLine] = []
        nocs: list[ServiceLine] = []
        visits: list[ServiceLine] = []
        vaccines: list[ServiceLine] = []
        providers: list[ServiceLine] = []
        known = self._drug_lines
        code_facts = self.refdata.code_facts
        extra_noc = self.settings.extra_noc
        commercial = self.profile is Profile.COMMERCIAL
        for line in self.claim.lines:
            code = line.code
            facts = code_facts(code)
            if len(code) == 5 and code[0] == "S":
                # S-codes are drugs only for commercial payers, and only those the table knows.
                is_drug = commercial and facts.drug is not None
            else:
                is_drug = bool(code) and facts.drug_code
            known[id(line)] = is_drug
            if code == INJECTION:
                injections.append(line)
            if is_drug:
                drugs.append(line)
            if code and line.sv1 is not None and (code in extra_noc or facts.noc):
                nocs.append(line)
            if code and facts.em_family:
                visits.append(line)
            if facts.vaccine_product:
                vaccines.append(line)
            if line.rendering is not None or line.supervising is not None:
                providers.append(line)
        values = self.__dict__
        values["injections"] = injections
        values["drug_lines"] = drugs
        values["noc_lines"] = nocs
        values["em_lines"] = visits
        values["vaccine_lines"] = vaccines
        values["provider_lines"] = providers

    @cached_value
    def injections(self) -> list[ServiceLine]:
        """The 96372 lines of the claim, in line order."""
        self._sort_lines()
        return self.injections

    @cached_value
    def drug_lines(self) -> list[ServiceLine]:
        """The drug lines of the claim (see :meth:`is_drug_line`), in line order."""
        self._sort_lines()
        return self.drug_lines

    @cached_value
    def noc_lines(self) -> list[ServiceLine]:
        """The lines with an SV1 billed with a NOC/unlisted drug code (see :meth:`is_noc`)."""
        self._sort_lines()
        return self.noc_lines

    @cached_value
    def em_lines(self) -> list[ServiceLine]:
        """The E/M lines: codes the reference data places in an E/M family, in line order."""
        self._sort_lines()
        return self.em_lines

    @cached_value
    def vaccine_lines(self) -> list[ServiceLine]:
        """The lines billed with a vaccine or toxoid product code, in line order."""
        self._sort_lines()
        return self.vaccine_lines

    @cached_value
    def provider_lines(self) -> list[ServiceLine]:
        """The lines with their own rendering (2420A) or supervising (2420D) provider."""
        self._sort_lines()
        return self.provider_lines

    @cached_value
    def encounters(self) -> list[list[ServiceLine]]:
        """The lines grouped by encounter: same DTP*472 date as sent and same rendering NPI.

        Groups come in the order of their first line, and lines in line order (catalogue §0,
        "same encounter"; the rendering NPI is :meth:`~edi837.x837p.model.Claim.rendering_npi`).
        """
        claim = self.claim
        groups: dict[tuple[str, str], list[ServiceLine]] = {}
        of = self._encounter_of
        # Without a line-level 2420A every line has the claim's rendering NPI: the date decides.
        same_npi = all(line.rendering is None for line in self.provider_lines)
        for line in claim.lines:
            key = (line.service_date_text, "" if same_npi else claim.rendering_npi(line))
            group = groups.get(key)
            if group is None:
                group = groups[key] = []
            group.append(line)
            of[id(line)] = group
        return list(groups.values())

    def encounter_of(self, line: ServiceLine) -> list[ServiceLine]:
        """The lines in the same encounter as ``line`` (itself included), in line order."""
        if not self._encounter_of:
            self.encounters  # noqa: B018 - fills the line-to-encounter map
        group = self._encounter_of.get(id(line))
        if group is None:
            claim = self.claim
            key = (line.service_date_text, claim.rendering_npi(line))
            return [
                other
                for other in claim.lines
                if (other.service_date_text, claim.rendering_npi(other)) == key
            ]
        return group

    def same_encounter(self, a: ServiceLine, b: ServiceLine) -> bool:
        """Same date of service as sent and same rendering NPI (catalogue §0)."""
        return self.encounter_of(a) is self.encounter_of(b)

    def _index(self) -> dict[int, tuple[str, ServiceLine | None]]:
        if self._loops is None:
            index: dict[int, tuple[str, ServiceLine | None]] = {}

            def add(loop: Loop, line: ServiceLine | None) -> None:
                for seg in loop.segments:
                    index[seg.number] = (loop.loop_id, line)

            add(self.claim.loop, None)
            for loop in self.claim.loops:
                add(loop, None)
            for line in self.claim.lines:
                add(line.loop, line)
                for loop in line.loops:
                    add(loop, line)
            for party in (self.claim.billing, self.claim.subscriber, self.claim.patient):
                if party is not None:
                    add(party.hl, None)
                    for loop in party.loops:
                        add(loop, None)
            self._loops = index
        return self._loops

    def loop_of(self, seg: Segment) -> str | None:
        """The loop id a segment of this claim sits in."""
        entry = self._index().get(seg.number)
        return entry[0] if entry else None

    def is_drug_line(self, line: ServiceLine) -> bool:
        """A 2400 whose SV101-2 is a drug or biological (catalogue §3).

        HCPCS Level II J-codes and drug Q-codes (not Q-codes for services, supplies or
        vaccines), S-codes of the drug table for commercial payers, immune globulins
        90281-90399, and any code in the injectable-drug table. C-codes are hospital-only.
        """
        known = self._drug_lines.get(id(line))
        if known is not None:
            return known
        code = line.code
        refdata = self.refdata
        if len(code) == 5 and code[0] == "S":
            # S-codes are drugs only for commercial payers, and only those the table knows.
            answer = self.profile is Profile.COMMERCIAL and refdata.drug(code) is not None
        else:
            answer = bool(code) and refdata.is_drug_code(code)
        self._drug_lines[id(line)] = answer
        return answer

    def is_noc(self, code: str) -> bool:
        """A NOC/unlisted drug code, from the shipped table plus ``extra_noc``."""
        return code in self.settings.extra_noc or self.refdata.is_noc(code)

    def facility_pos(self) -> frozenset[str] | None:
        """The configured facility POS list, or ``None`` to use the reference table."""
        return self.settings.facility_pos

    def line_pos(self, line: ServiceLine) -> str:
        """The place of service of a line: SV105 when sent, else CLM05-1."""
        return line.place_of_service or self.claim.place_of_service

    def report(
        self,
        rule: Rule,
        message: str,
        segment: Segment | None,
        element: str | None = None,
        *,
        line: ServiceLine | None = None,
        severity: Severity | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        """A finding of ``rule`` located on ``segment`` and ``element`` of this claim."""
        seg = segment if segment is not None else self.claim.clm
        if line is None:
            entry = self._index().get(seg.number)
            line = entry[1] if entry else None
        column, width = seg.column_of(element) if element else (None, None)
        return Finding(
            code=rule.code,
            severity=severity or rule.default_severity(self.profile),
            message=message,
            segment_id=seg.id,
            segment_number=seg.number,
            byte_offset=seg.byte_offset,
            line_number=seg.line,
            element=element,
            loop=self.loop_of(seg),
            interchange=self.claim.envelope.interchange,
            transaction=self.claim.envelope.transaction,
            claim=self.claim.id,
            line=line.number if line is not None else None,
            fix=fix,
            segment_text=seg.text,
            column=column,
            width=width,
        )


def replace_fix(
    segment: Segment,
    element: str,
    new: str,
    description: str,
    applicability: Applicability = Applicability.SAFE,
) -> Fix:
    """A fix that sets one element (or component) of ``segment`` to ``new``."""
    edit = Edit(EditKind.REPLACE, segment.number, element, segment.value(element), new)
    return Fix(applicability, description, (edit,))


def delete_fix(
    segments: Iterable[Segment],
    description: str,
    applicability: Applicability = Applicability.SAFE,
) -> Fix:
    """A fix that removes whole segments (a redundant 2420D loop, say)."""
    edits = tuple(Edit(EditKind.DELETE, s.number, None, s.text, None) for s in segments)
    return Fix(applicability, description, edits)


def suggestion(description: str) -> Fix:
    """A fix in words only: shown to the user, never applied (catalogue class SUGGEST)."""
    return Fix(Applicability.UNSAFE, description, ())


def iter_lines(claim: Claim, code: str | None = None) -> Iterator[ServiceLine]:
    """The service lines of ``claim``, or only those whose SV101-2 is ``code``."""
    for line in claim.lines:
        if code is None or line.code == code:
            yield line
