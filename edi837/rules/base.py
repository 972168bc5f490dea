"""The rule model: :class:`Rule`, :class:`CheckContext` and the helpers that build fixes.

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

import ast
import importlib.util
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import ClassVar

from mypy_extensions import mypyc_attr

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity
from edi837.refdata import ReferenceData
from edi837.rules.lines import (
    LineKinds,
    classify_lines,
    encounter_key,
    group_encounters,
    is_drug_code,
)
from edi837.rules.needs import Need
from edi837.rules.pairing import Pairing, pair_claim, pair_single
from edi837.rules.profiles import Profile
from edi837.rules.settings import Settings
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, Loop, ServiceLine

# Profile and Settings live in their own modules; they are re-exported here for the callers
# that read them with the rule model (the engine, the claim and encounter rules).
__all__ = [
    "DOC_SECTIONS",
    "CheckContext",
    "FixAvailability",
    "Profile",
    "Rule",
    "Settings",
    "delete_fix",
    "replace_fix",
    "suggestion",
]


class FixAvailability(StrEnum):
    """What kind of fix a rule can offer (ruff's ``FIX_AVAILABILITY``).

    ``safe`` and ``unsafe`` rules build concrete edits (an ``unsafe`` rule may fall back to a
    suggestion where no edit can be built); ``display`` rules only suggest, in words;
    ``sometimes`` rules build a safe edit when the data settles the answer and an unsafe one or
    a suggestion otherwise. The rule cases check that what a rule emits matches this.
    """

    NONE = "none"
    SAFE = "safe"
    UNSAFE = "unsafe"
    SOMETIMES = "sometimes"
    DISPLAY = "display"

    @property
    def allows(self) -> frozenset[str]:
        """The fix applicabilities (``none`` for a finding without fix) such a rule may emit."""
        return _ALLOWED[self]


_ALLOWED = {
    FixAvailability.NONE: frozenset({"none"}),
    FixAvailability.SAFE: frozenset({"none", "safe"}),
    FixAvailability.UNSAFE: frozenset({"none", "unsafe", "display"}),
    FixAvailability.SOMETIMES: frozenset({"none", "safe", "unsafe", "display"}),
    FixAvailability.DISPLAY: frozenset({"none", "display"}),
}


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


@cache
def _source_docstrings(module: str) -> dict[str, str]:
    """The class docstrings of a module, read from its source file.

    The optional compiled build (mypyc) does not keep class docstrings, and a rule's docstring
    is its documentation; the build ships each module's source beside it, which is read here.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return {}
    source = Path(spec.origin).with_name(module.rpartition(".")[2] + ".py")
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    return {
        node.name: ast.get_docstring(node, clean=False) or ""
        for node in tree.body
        if isinstance(node, ast.ClassDef)
    }


def document(cls: type[Rule]) -> None:
    """Give a rule class its summary and sections, from its source where the build lost them."""
    if not cls.summary:
        module = getattr(cls, "__module__", "")  # as read, it would not compile (mypyc)
        doc = _source_docstrings(module).get(cls.__name__, "")
        cls.summary, cls.docs = _parse_doc(doc)


# The optional compiled build compiles the rules; a program may still write its own in Python.
@mypyc_attr(allow_interpreted_subclasses=True)
class Rule:
    """Base class of every rule; subclasses are named by code and documented by docstring."""

    code: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    docs: ClassVar[dict[str, str]] = {}
    severity: ClassVar[Severity] = Severity.WARNING
    severity_by_profile: ClassVar[dict[Profile, Severity]] = {}
    # Other severities the rule gives in documented cases, with the case in words.
    severity_when: ClassVar[dict[Severity, str]] = {}
    fix: ClassVar[FixAvailability] = FixAvailability.NONE
    scope: ClassVar[str] = "claim"
    # A void (CLM05-3 = 8) repeats the original claim to cancel it: only the structural and
    # identity checks apply, so a rule runs on voids only when it says so.
    applies_to_void: ClassVar[bool] = False
    # The claim content the rule looks at (:class:`~edi837.rules.needs.Need`, all required):
    # the engine skips the rule on a claim without it, where it could not report anything.
    needs: ClassVar[Need] = Need.NOTHING

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        match = _CODE.match(cls.__name__)
        if match is None:
            return  # an intermediate base class, not a rule
        cls.code = f"{match.group(1)}-{match.group(2)}"
        # Empty in the compiled build, which drops docstrings: see :func:`document`.
        cls.summary, cls.docs = _parse_doc(getattr(cls, "__doc__", None) or "")

    def default_severity(self, profile: Profile) -> Severity:
        """The catalogue severity under ``profile``."""
        return self.severity_by_profile.get(profile, self.severity)

    def active(self, profile: Profile, settings: Settings, refdata: ReferenceData) -> bool:
        """Whether the rule can report anything under ``profile`` with these settings and data.

        The engine asks once per profile, not per claim: a Medicare-only edit, or one that
        needs a reference table that is not loaded, is left out of the other profiles' runs.
        A rule that says ``False`` here must yield nothing for every claim of that profile.
        """
        return True

    def check(self, claim: Claim, ctx: CheckContext) -> Iterable[Finding]:
        """Yield the findings of this rule for one claim (structure rules yield nothing)."""
        return ()


@dataclass(init=False)
class CheckContext:
    """What a rule may read while checking one claim: profile, settings, reference data, pairing.

    It also holds what several rules derive from the same claim, worked out on first use and
    shared: which lines are drug lines and which are 96372 lines (:mod:`.lines`), the
    encounters (lines of the same DTP*472 date and rendering NPI) and the administration-to-drug
    pairing (:mod:`.pairing`).
    """

    claim: Claim
    profile: Profile
    settings: Settings
    refdata: ReferenceData

    # Explicit, so that the compiled build compiles it: a generated __init__ stays interpreted.
    def __init__(
        self, claim: Claim, profile: Profile, settings: Settings, refdata: ReferenceData
    ) -> None:
        self.claim = claim
        self.profile = profile
        self.settings = settings
        self.refdata = refdata
        self._loops: dict[int, tuple[str, ServiceLine | None]] | None = None
        self._encounter_of: dict[int, list[ServiceLine]] = {}
        # What the properties below work out on first read. Plain attributes rather than
        # descriptors that write the instance dictionary, so that the class compiles (mypyc).
        self._kinds: LineKinds | None = None
        self._pairing: Pairing | None = None
        self._encounters: list[list[ServiceLine]] | None = None

    @property
    def kinds(self) -> LineKinds:
        """The lines of the claim sorted by what they bill (computed once, shared)."""
        kinds = self._kinds
        if kinds is None:
            kinds = self._kinds = classify_lines(
                self.claim, self.refdata, self.profile, self.settings.extra_noc
            )
        return kinds

    @property
    def pairing(self) -> Pairing:
        """The administration-to-drug-line pairing of this claim (computed once, shared)."""
        pairing = self._pairing
        if pairing is None:
            single = pair_single(self.claim, self.kinds, self.refdata)
            if single is None:
                single = pair_claim(self.claim, self.kinds, self.encounters, self.refdata)
            pairing = self._pairing = single
        return pairing

    @property
    def injections(self) -> list[ServiceLine]:
        """The 96372 lines of the claim, in line order."""
        return self.kinds.injections

    @property
    def drug_lines(self) -> list[ServiceLine]:
        """The drug lines of the claim (see :meth:`is_drug_line`), in line order."""
        return self.kinds.drug_lines

    @property
    def noc_lines(self) -> list[ServiceLine]:
        """The lines with an SV1 billed with a NOC/unlisted drug code (see :meth:`is_noc`)."""
        return self.kinds.noc_lines

    @property
    def em_lines(self) -> list[ServiceLine]:
        """The E/M lines: codes the reference data places in an E/M family, in line order."""
        return self.kinds.em_lines

    @property
    def vaccine_lines(self) -> list[ServiceLine]:
        """The lines billed with a vaccine or toxoid product code, in line order."""
        return self.kinds.vaccine_lines

    @property
    def provider_lines(self) -> list[ServiceLine]:
        """The lines with their own rendering (2420A) or supervising (2420D) provider."""
        return self.kinds.provider_lines

    @property
    def encounters(self) -> list[list[ServiceLine]]:
        """The lines grouped by encounter: same DTP*472 date as sent and same rendering NPI.

        Groups come in the order of their first line, and lines in line order (catalogue §0,
        "same encounter"; the rendering NPI is :meth:`~edi837.x837p.model.Claim.rendering_npi`).
        """
        groups = self._encounters
        if groups is None:
            groups = self._encounters = group_encounters(self.claim, self.kinds)
            of = self._encounter_of
            for group in groups:
                for line in group:
                    of[id(line)] = group
        return groups

    def encounter_of(self, line: ServiceLine) -> list[ServiceLine]:
        """The lines in the same encounter as ``line`` (itself included), in line order."""
        if not self._encounter_of:
            self.encounters  # noqa: B018 - fills the line-to-encounter map
        group = self._encounter_of.get(id(line))
        if group is None:
            claim = self.claim
            key = encounter_key(claim, line)
            return [other for other in claim.lines if encounter_key(claim, other) == key]
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
        """A 2400 whose SV101-2 is a drug or biological (:func:`.lines.is_drug_code`)."""
        known = self.kinds.drug_by_line.get(id(line))
        if known is not None:
            return known
        return is_drug_code(line.code, self.refdata, self.profile)

    def named(self, code: str) -> bool:
        """Whether the settings select ``code`` by its full code, not by prefix or default.

        Opt-in checks (POS-003's SV105 repeat) run only then, so that ``check`` and the
        default ``fix`` leave valid files alone.
        """
        return any(pattern.strip().upper() == code for pattern in self.settings.select or ())

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
    return Fix(Applicability.DISPLAY, description, ())
