"""REF rule: the drug line's 2410 REF (prescription number or link sequence)."""

from __future__ import annotations

from collections.abc import Iterator

from edi837.findings import Finding, Severity
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
)
from edi837.rules.needs import Need
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, ServiceLine

#: REF01 qualifiers of the 2410 REF: link sequence number (compounds), prescription number.
DRUG_REF_QUALIFIERS = frozenset({"VY", "XZ"})


class REF001(Rule):
    """The 2410 REF is ``VY`` or ``XZ`` with a 1-50 character value; a VY links two lines or more.

    What it does:
        Reports a 2410 REF whose REF01 is not ``VY`` (link sequence number) or ``XZ``
        (pharmacy prescription number), or whose REF02 is empty or longer than 50 characters;
        and, as a warning, a VY link number that no other drug line of the claim carries.

    Why it matters:
        Other qualifiers and over-long values fail the TR3 front-end edit. VY ties together
        the ingredients of a compound drug, each on its own line; a VY on one line links
        nothing, which usually means an ingredient line is missing.

    Fix safety:
        No fix.

    Example:
        ``REF*6R*12345~`` in loop 2410 (6R belongs to 2400, not 2410).

    Sources:
        pyx12 837P map (2410 REF); LinuxForHealth x12 ``Loop2410RefSegment``.
    """

    severity = Severity.REJECT
    severity_when = {Severity.WARNING: "for a VY link sequence on one line only"}
    fix = FixAvailability.NONE
    applies_to_void = True

    needs = Need.NDC_REF

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report bad 2410 REF qualifiers and values, and VY numbers on one line only."""
        links: dict[str, list[tuple[ServiceLine, Segment]]] = {}
        for line in claim.lines:
            if line.drug is None or line.drug.ref is None:
                continue  # no REF in this 2410
            for ref in line.drug.loop.all("REF"):
                qualifier, value = ref.element(1), ref.element(2)
                if qualifier not in DRUG_REF_QUALIFIERS:
                    yield ctx.report(
                        self,
                        f"REF01 {qualifier or '(empty)'} is not a 2410 qualifier; use VY (link "
                        "sequence number) or XZ (prescription number).",
                        ref,
                        "REF01",
                        line=line,
                    )
                    continue
                if not value or len(value) > 50:
                    yield ctx.report(
                        self,
                        f"REF02 of REF*{qualifier} must be 1 to 50 characters; it has "
                        f"{len(value)}.",
                        ref,
                        "REF02",
                        line=line,
                    )
                    continue
                if qualifier == "VY":
                    links.setdefault(value, []).append((line, ref))
        for value, found in links.items():
            if len({id(line) for line, _ in found}) > 1:
                continue
            line, ref = found[0]
            yield ctx.report(
                self,
                f"Link sequence number VY {value} appears on one line only; a compound's "
                "ingredients share it on two lines or more.",
                ref,
                "REF02",
                line=line,
                severity=Severity.WARNING,
            )
