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

from edi837.findings import Finding, Severity
from edi837.refdata import ReferenceData
from edi837.rules import default_registry
from edi837.rules.base import CheckContext, Profile, Rule, Settings
from edi837.rules.claim import VOID
from edi837.rules.registry import Registry
from edi837.x837p.builder import Unit
from edi837.x837p.model import Claim


@dataclass
class LineView:
    """A service line as reports show it (kept only when a report asks for claim detail)."""

    number: int | None
    code: str
    modifiers: list[str]
    units: str
    charge: str
    date: str
    ndc: str
    segment_number: int


@dataclass
class ClaimView:
    """A claim as reports show it: id, where it sits, profile and lines."""

    id: str
    interchange: str
    transaction: str
    profile: str
    charge: str
    segment_number: int
    lines: list[LineView] = field(default_factory=list)

    @classmethod
    def of(cls, claim: Claim, profile: Profile) -> ClaimView:
        """The view of a claim checked under ``profile``."""
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
            )
            for line in claim.lines
        ]
        return cls(
            id=claim.id,
            interchange=claim.envelope.interchange,
            transaction=claim.envelope.transaction,
            profile=profile.value,
            charge=claim.clm.element(2),
            segment_number=claim.clm.number,
            lines=lines,
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
    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0
    claim_views: list[ClaimView] = field(default_factory=list)

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

    def _keep(self, finding: Finding) -> Finding | None:
        if finding.code not in self.selected_codes:
            return None
        override = self.overrides.get(finding.code)
        if override is not None:
            finding.severity = override
        return finding

    def check_claim(self, claim: Claim) -> list[Finding]:
        """Every selected claim rule's findings for one claim, in file order."""
        ctx = CheckContext(claim, self.profile_for(claim), self.settings, self.refdata)
        found: list[Finding] = []
        keep = self._keep
        # A void repeats the original claim to cancel it; coding edits do not apply to it.
        rules = self.void_rules if claim.frequency == VOID else self.claim_rules
        for rule in rules:
            for finding in rule.check(claim, ctx):
                kept = keep(finding)
                if kept is not None:
                    found.append(kept)
        return found

    def check_unit(self, unit: Unit) -> list[Finding]:
        """The parser's findings for a unit that the selection keeps, plus the claim rules'."""
        found: list[Finding] = []
        if unit.findings:
            found = [f for f in (self._keep(f) for f in unit.findings) if f is not None]
            if found:
                _locate(found, unit)
        if unit.claim is not None:
            found.extend(self.check_claim(unit.claim))
        if len(found) > 1:
            found.sort(key=_sort_key)
        return found

    def iter_checked(self, units: Iterable[Unit]) -> Iterator[tuple[Unit, list[Finding]]]:
        """Each unit with its findings, streaming."""
        for unit in units:
            yield unit, self.check_unit(unit)


def _sort_key(finding: Finding) -> tuple[int, int, str]:
    return finding.sort_key


def _locate(findings: list[Finding], unit: Unit) -> None:
    """Give parser findings the segment text and element column that reports show."""
    by_number = {seg.number: seg for seg, _ in unit.segments}
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
