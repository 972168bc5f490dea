"""The edit pass: runs the selected rules over the claim stream of one file at a time.

For each unit the loop builder yields, the engine keeps the parser's own findings (envelope,
HL, structure) that the selection allows, runs the claim rules under the claim's payer
profile and applies severity overrides. :class:`FileResult` is the shape of one file's
outcome in the JSON contract; :mod:`edi837.api` runs the engine over a whole file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

from edi837.causes import group as group_by_cause
from edi837.finding_spool import FindingSpool
from edi837.findings import Finding, Severity
from edi837.refdata import ReferenceData
from edi837.rules import default_registry
from edi837.rules.base import CheckContext, Profile, Rule, Settings
from edi837.rules.claim import VOID
from edi837.rules.registry import Registry
from edi837.x837p.builder import Unit
from edi837.x837p.model import Claim, Party

if TYPE_CHECKING:
    from edi837.rules.pairing import Pairing


@dataclass
class LineView:
    """A service line as reports show it (kept only when a report asks for claim detail).

    ``ndc_quantity`` and ``ndc_unit`` are CTP04 and CTP05-1 of the drug line's 2410;
    ``paired_with`` the LX01 numbers of the lines the 96372 pairing joins this one to (the drug
    lines of an injection, or the injection of a drug line).
    """

    number: int | None
    code: str
    modifiers: list[str]
    units: str
    charge: str
    date: str
    ndc: str
    segment_number: int
    ndc_quantity: str = ""
    ndc_unit: str = ""
    paired_with: list[int] = field(default_factory=list)


def _person_name(party: Party | None, loop_id: str) -> str:
    """``LAST, FIRST MIDDLE`` from the NM1 of a name loop (2010BA subscriber, 2010CA patient)."""
    loop = party.loop(loop_id) if party is not None else None
    nm1 = loop.first("NM1") if loop is not None else None
    if nm1 is None:
        return ""
    last, first, middle = nm1.element(3), nm1.element(4), nm1.element(5)
    given = " ".join(p for p in (first, middle) if p)
    return f"{last}, {given}" if last and given else last or given


def _nm1_element(party: Party | None, loop_id: str, position: int) -> str:
    loop = party.loop(loop_id) if party is not None else None
    nm1 = loop.first("NM1") if loop is not None else None
    return nm1.element(position) if nm1 is not None else ""


@dataclass
class ClaimView:
    """A claim as reports show it: id, where it sits, profile, lines, and who it is about.

    ``patient`` is the 2010CA name when the patient is not the subscriber, else 2010BA's;
    ``member_id`` the subscriber's NM109 (2010BA); ``payer`` and ``payer_id`` 2010BB NM103
    and NM109; ``billing_npi`` the 2010AA NPI. Reports mask the person data with ``redact``.
    """

    id: str
    interchange: str
    transaction: str
    profile: str
    charge: str
    segment_number: int
    lines: list[LineView] = field(default_factory=list)
    patient: str = ""
    member_id: str = ""
    payer: str = ""
    payer_id: str = ""
    billing_npi: str = ""

    @classmethod
    def of(cls, claim: Claim, profile: Profile, pairing: Pairing | None = None) -> ClaimView:
        """The view of a claim checked under ``profile`` (with its 96372 pairing, if given)."""
        partners: dict[int, list[int]] = {}
        if pairing is not None:
            for pair in pairing.pairs:
                injection = pair.injection.number
                for drug in pair.drugs:
                    if injection is not None and drug.number is not None:
                        partners.setdefault(injection, []).append(drug.number)
                        partners.setdefault(drug.number, []).append(injection)
        lines = [
            LineView(
                number=line.number,
                code=line.code,
                modifiers=[m for m in line.modifiers if m],
                units=line.units_text,
                charge=line.sv1.element(2) if line.sv1 is not None else "",
                date=line.service_date_text,
                ndc=line.drug.ndc if line.drug is not None else "",
                segment_number=line.lx.number,
                ndc_quantity=line.drug.quantity_text if line.drug is not None else "",
                ndc_unit=line.drug.unit if line.drug is not None else "",
                paired_with=partners.get(line.number, []) if line.number is not None else [],
            )
            for line in claim.lines
        ]
        patient = _person_name(claim.patient, "2010CA") or _person_name(claim.subscriber, "2010BA")
        billing = claim.billing_provider
        return cls(
            id=claim.id,
            interchange=claim.envelope.interchange,
            transaction=claim.envelope.transaction,
            profile=profile.value,
            charge=claim.clm.element(2),
            segment_number=claim.clm.number,
            lines=lines,
            patient=patient,
            member_id=_nm1_element(claim.subscriber, "2010BA", 9),
            payer=_nm1_element(claim.subscriber, "2010BB", 3),
            payer_id=claim.payer_id,
            billing_npi=billing.npi if billing is not None else "",
        )


@dataclass
class FileResult:
    """The outcome of checking one file, in the shape of the JSON contract's ``files`` items."""

    path: str
    status: str = "ok"  # ok | findings | error
    error: str | None = None
    interchanges: int = 0
    transactions: int = 0
    claims: int = 0
    service_lines: int = 0
    # A plain list, or with api.check(keep_findings=...) a spool holding most of them on disk.
    findings: list[Finding] | FindingSpool = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0
    claim_views: list[ClaimView] = field(default_factory=list)
    segments: int = 0  # segments read (not in the JSON contract; a cut file's pieces use it)

    def fails(self, threshold: Severity) -> bool:
        """True when a finding is at or above ``threshold`` (the ``--fail-on`` test)."""
        return any(f.severity.at_least(threshold) for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        """The file object of ``check -f json``."""
        return {
            "path": self.path,
            "status": self.status,
            "error": self.error,
            "interchanges": self.interchanges,
            "transactions": self.transactions,
            "claims": self.claims,
            "service_lines": self.service_lines,
            "findings": [f.to_dict() for f in self.findings],
        }


# The optional compiled build compiles this class; a program may still subclass it in Python.
@mypyc_attr(allow_interpreted_subclasses=True)
class Engine:
    """Selected rules, settings and reference data, ready to check claims and files."""

    def __init__(
        self,
        settings: Settings | None = None,
        refdata: ReferenceData | None = None,
        registry: Registry | None = None,
    ) -> None:
        from edi837.refdata import load_reference

        self.settings = settings or Settings()
        if refdata is None:
            folder = Path(self.settings.refdata) if self.settings.refdata else None
            refdata = load_reference(folder)
        self.refdata = refdata
        if self.settings.extra_noc:
            self.refdata = self.refdata.with_extra_noc(self.settings.extra_noc)
        self.registry = registry or default_registry()
        self.rules = self.registry.selected(self.settings.select, self.settings.ignore)
        self.selected_codes = frozenset(r.code for r in self.rules)
        self.claim_rules: list[Rule] = [r for r in self.rules if r.scope == "claim"]
        self.void_rules: list[Rule] = [r for r in self.claim_rules if r.applies_to_void]
        self.overrides = dict(self.settings.severity)
        # The rules to run for each (profile, void, what the claim carries): worked out the
        # first time a claim of that kind comes, then shared by every claim like it.
        self._plans: dict[tuple[Profile, bool, int], tuple[Rule, ...]] = {}
        self._active: dict[Profile, frozenset[str]] = {}

    def profile_for(self, claim: Claim) -> Profile:
        """The payer profile of a claim: forced, per payer id, or from SBR09 (``auto``)."""
        if self.settings.profile != "auto":
            return Profile(self.settings.profile)
        payer_profiles = self.settings.payer_profiles
        if payer_profiles:
            by_payer = payer_profiles.get(claim.payer_id)
            if by_payer is not None:
                return by_payer
        return Profile.from_filing_indicator(claim.claim_filing_indicator)

    def claim_view(self, claim: Claim) -> ClaimView:
        """The view of a claim that reports show: its lines, parties and 96372 pairing."""
        profile = self.profile_for(claim)
        context = CheckContext(claim, profile, self.settings, self.refdata)
        return ClaimView.of(claim, profile, context.pairing)

    def _keep(self, finding: Finding) -> Finding | None:
        if finding.code not in self.selected_codes:
            return None
        override = self.overrides.get(finding.code)
        if override is not None:
            finding.severity = override
        return finding

    def _plan(self, profile: Profile, void: bool, needs: int) -> tuple[Rule, ...]:
        """The selected claim rules that can report on a claim of this profile and content."""
        active = self._active.get(profile)
        if active is None:
            active = frozenset(
                r.code for r in self.claim_rules if r.active(profile, self.settings, self.refdata)
            )
            self._active[profile] = active
        # A void repeats the original claim to cancel it; coding edits do not apply to it.
        rules = self.void_rules if void else self.claim_rules
        plan = tuple(
            r for r in rules if r.code in active and (int(r.needs) & needs) == int(r.needs)
        )
        self._plans[(profile, void, needs)] = plan
        return plan

    def check_claim(self, claim: Claim) -> list[Finding]:
        """Every selected claim rule's findings for one claim, in file order.

        Only the rules that can report on this claim run: those active under its profile
        (:meth:`Rule.active`) whose declared needs the claim carries (:mod:`.rules.needs`).
        """
        profile = self.profile_for(claim)
        ctx = CheckContext(claim, profile, self.settings, self.refdata)
        key = (profile, claim.frequency == VOID, ctx.kinds.needs)
        rules = self._plans.get(key)
        if rules is None:
            rules = self._plan(*key)
        found: list[Finding] = []
        extend = found.extend
        for rule in rules:
            extend(rule.check(claim, ctx))
        if found:
            # Most claims have no finding: selection and overrides apply to the few that do.
            found = [f for f in map(self._keep, found) if f is not None]
        return found

    def check_unit(self, unit: Unit) -> list[Finding]:
        """The parser's findings for a unit that the selection keeps, plus the claim rules'."""
        found: list[Finding] = []
        if unit.findings:
            found = [f for f in (self._keep(f) for f in unit.findings) if f is not None]
            if found:
                _locate(found, unit)
        if unit.claim is not None:
            claim_found = self.check_claim(unit.claim)
            if found and claim_found:
                found = _without_restated(found, claim_found)
            found.extend(claim_found)
        if len(found) > 1:
            found.sort(key=_sort_key)
            group_by_cause(found)
        return found

    def iter_checked(self, units: Iterable[Unit]) -> Iterator[tuple[Unit, list[Finding]]]:
        """Each unit with its findings, streaming."""
        for unit in units:
            yield unit, self.check_unit(unit)


# Parser codes that say only "not a valid code for this element". A claim rule that reports
# the same element (CTP-002 on a lower-case or non-X12 CTP05-1 unit) says what the value
# should be, so the general finding would only repeat the fault.
_GENERAL_ELEMENT_CODES = frozenset({"ELM-003"})


def _without_restated(parser_found: list[Finding], claim_found: list[Finding]) -> list[Finding]:
    """Parser findings less the general ones a claim rule reported on the same element."""
    claimed = {(f.segment_number, f.element) for f in claim_found if f.element}
    return [
        f
        for f in parser_found
        if f.code not in _GENERAL_ELEMENT_CODES or (f.segment_number, f.element) not in claimed
    ]


def _sort_key(finding: Finding) -> tuple[int, int, str]:
    return finding.sort_key


def _locate(findings: list[Finding], unit: Unit) -> None:
    """Give parser findings the segment text and element column that reports show."""
    wanted = {
        f.segment_number
        for f in findings
        if f.segment_text is None and f.segment_number is not None
    }
    if not wanted:
        return
    # Only the segments findings point at: an oversized claim's others stay on disk.
    by_number = {seg.number: seg for seg, _ in unit.segments if seg.number in wanted}
    for finding in findings:
        if finding.segment_text is not None or finding.segment_number is None:
            continue
        seg = by_number.get(finding.segment_number)
        if seg is None:
            continue
        finding.segment_text = seg.text
        if finding.element:
            try:
                finding.column, finding.width = seg.column_of(finding.element)
            except (KeyError, ValueError):
                pass
