"""MOD rules: modifier 25 placement, 59/X{EPSU} use, and the shape of SV101-3..7."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
    suggestion,
)
from edi837.rules.injection.common import (
    DISTINCT,
    MODIFIER_POSITIONS,
    modifier_ref,
    sent_modifiers,
)
from edi837.rules.lines import INJECTION
from edi837.rules.needs import Need
from edi837.x12.segment import Segment
from edi837.x837p.model import Claim, ServiceLine

_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")


# Every value _MODIFIER accepts but a trailing newline, for a set lookup instead of a match.
_MODIFIER_CODES = frozenset(
    a + b
    for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)


def _is_modifier(value: str) -> bool:
    """A modifier code: two upper-case letters or digits."""
    return value in _MODIFIER_CODES or _MODIFIER.match(value) is not None


X_MODIFIERS = frozenset({"XE", "XP", "XS", "XU"})


# X{EPSU} exist for dates of service from 2015-01-01 (CR 8863, Transmittal 1422).
X_MODIFIERS_FROM = date(2015, 1, 1)


def _is_em(ctx: CheckContext, line: ServiceLine) -> bool:
    return bool(line.code) and bool(ctx.refdata.em_family(line.code))


def _modifier_layout(sv1: Segment) -> tuple[list[str], list[str]]:
    """SV101's modifiers (positions 3-6) and what follows them (SV101-7 on, the description).

    SV101-7 is the free-text description (AN 1-80 in the TR3), so a two-character value there
    is a valid description, never a modifier, even when positions 3-6 are all filled.
    """
    parts = sv1.components(1)
    mods = [parts[i] if i < len(parts) else "" for i in range(2, 6)]
    tail = parts[6:]
    while mods and not mods[-1]:
        mods.pop()
    return mods, tail


def _modifier_fix(
    line: ServiceLine, modifiers: list[str], tail: list[str], description: str, safe: bool
) -> Fix | None:
    """A fix that puts ``modifiers`` (at most four) in SV101-3.. and ``tail`` from SV101-7 on.

    One edit per component whose value changes; ``None`` when nothing would change. Emptied
    trailing positions disappear when the fixer writes the segment, and a description in
    SV101-7 keeps its position.
    """
    sv1 = line.sv1
    if sv1 is None or len(modifiers) > 4 or len(tail) > 1:
        return None  # SV101-8 is not used in the 837P; a layout reaching it is left to a person
    target = (modifiers + [""] * 4)[:4] + (tail[:1] or [""])
    edits = []
    for position, new in zip((*MODIFIER_POSITIONS, 7), target, strict=True):
        ref = f"SV101-{position}"
        old = sv1.value(ref)
        if new != old:
            edits.append(Edit(EditKind.REPLACE, sv1.number, ref, old, new))
    if not edits:
        return None
    applicability = Applicability.SAFE if safe else Applicability.UNSAFE
    return Fix(applicability, description, tuple(edits))


class MOD001(Rule):
    """Modifier 25 is not used on the 96372 line or a drug line.

    What it does:
        Reports modifier 25 in SV101-3..6 of a 96372 line or of a drug line.

    Why it matters:
        25 marks a significant, separately identifiable E/M service and belongs on the E/M line
        only. On the injection or the drug it makes the code and modifier inconsistent, and the
        line is denied (CO-4); the E/M that needed it is usually left without it (EM-001).

    Fix safety:
        Safe by default: the fix removes 25 from the line and closes the gap it leaves (the
        remaining modifiers move up, in order; empty positions are closed too). 25 has no
        meaning on these lines, so nothing billable is lost. The fix never moves 25 to the E/M
        line. The description in SV101-7 keeps its position and never moves into a modifier
        (``96372:25:59:GA:KX`` with the description ``XU`` becomes ``96372:59:GA:KX::XU``).

    Example:
        ``SV1*HC:96372:25*35*UN*1***1~`` becomes ``SV1*HC:96372*35*UN*1***1~``.

    Sources:
        CPT modifier 25 definition; AAP and AAPC guidance on modifier placement.

    Options:
        ``remove_25_safe = false`` makes the fix unsafe (applied only with ``--unsafe-fixes``).
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.SOMETIMES

    needs = Need.MISPLACED_25

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report 25 on 96372 or drug lines, with a fix that removes it."""
        for line in claim.lines:
            if "25" not in line.modifier_codes or line.sv1 is None:
                continue
            if line.code != INJECTION and not ctx.is_drug_line(line):
                continue
            mods, tail = _modifier_layout(line.sv1)
            kept = [m for m in mods if m and m != "25"]
            description = f"Remove modifier 25 from {line.code}"
            # The description in SV101-7 keeps its position: only modifiers shift left.
            safe = ctx.settings.remove_25_safe
            fix = _modifier_fix(line, kept, tail, description, safe)
            kind = "the injection" if line.code == INJECTION else "a drug line"
            yield ctx.report(
                self,
                f"Modifier 25 on {line.code} ({kind}) is invalid: 25 belongs on the E/M line "
                "only; remove it here.",
                line.sv1,
                modifier_ref(line, {"25"}),
                line=line,
                fix=fix,
            )


class MOD002(Rule):
    """59 and X{EPSU} are used alone, never on an E/M, and only where an NCCI edit needs them.

    What it does:
        Reports, on each line: 59 together with XE, XP, XS or XU; 59 or an X modifier on an E/M
        code; an X modifier on a date of service before 2015-01-01. When the NCCI PTP table is
        loaded it also reports 59/X{EPSU} on a line whose code forms no PTP pair with modifier
        indicator 1, active on the date, with any other code of the encounter (as a warning:
        the modifier bypasses nothing there).

    Why it matters:
        CMS introduced XE, XP, XS and XU as more specific subsets of 59 and wants one or the
        other, not both. E/M codes take 25 (or 57), never 59; a distinct-service modifier on an
        E/M is denied (CO-4). A 59 without an edit to bypass has no effect on payment but is a
        known audit target for modifier misuse.

    Fix safety:
        A suggestion only: which modifier the record supports cannot be decided from the claim.
        The modifiers are never added or removed automatically.

    Example:
        ``SV1*HC:96372:59:XS*35*UN*1***1~`` is reported on the second modifier; so is
        ``SV1*HC:99213:59*125*UN*1***1:2~``.

    Sources:
        CMS CR 8863 / Transmittal 1422 (X{EPSU}); AAPC summary; AAP Coding (X modifiers not on
        E/M); NCCI PTP tables (modifier indicator).

    Options:
        The PTP part runs only when the NCCI practitioner PTP table is loaded from the
        ``refdata`` folder; without it that part stays silent.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    needs = Need.DISTINCT_MODIFIER

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report misused 59/X{EPSU} modifiers line by line."""
        for line in claim.lines:
            mods = line.modifier_codes
            used = mods & DISTINCT
            if not used or line.sv1 is None:
                continue
            sv1 = line.sv1
            x_used = sorted(used & X_MODIFIERS)
            if "59" in used and x_used:
                yield ctx.report(
                    self,
                    f"{line.code} carries 59 and {'/'.join(x_used)} together; use only the more "
                    f"specific {x_used[0]}.",
                    sv1,
                    second_modifier_ref(line, {"59", *x_used}),
                    line=line,
                    fix=suggestion(
                        f"Keep {x_used[0]} (or 59 if the payer does not accept X modifiers) and "
                        "remove the other."
                    ),
                )
            if _is_em(ctx, line):
                yield ctx.report(
                    self,
                    f"{'/'.join(sorted(used))} on E/M {line.code} is invalid: an E/M on the day "
                    "of another service takes 25, not a distinct-service modifier.",
                    sv1,
                    modifier_ref(line, used),
                    line=line,
                    fix=suggestion(
                        f"Remove {'/'.join(sorted(used))} from {line.code}; use 25 if the record "
                        "documents a separately identifiable E/M."
                    ),
                )
                continue
            dos = line.service_date
            if x_used and dos is not None and dos < X_MODIFIERS_FROM:
                yield ctx.report(
                    self,
                    f"{'/'.join(x_used)} did not exist before 2015-01-01 (date of service "
                    f"{dos.isoformat()}); use 59.",
                    sv1,
                    modifier_ref(line, set(x_used)),
                    line=line,
                    fix=suggestion(f"Replace {'/'.join(x_used)} with 59."),
                )
                continue
            if dos is None or not _ptp_loaded(ctx):
                continue
            others = [
                o.code
                for o in ctx.encounter_of(line)
                if o is not line and o.code and o.code != line.code
            ]
            if any(_ptp_allows_bypass(ctx, line.code, code, dos) for code in others):
                continue
            yield ctx.report(
                self,
                f"{'/'.join(sorted(used))} on {line.code} bypasses no NCCI edit: no other code "
                "of this encounter forms a PTP pair with it that a modifier can bypass.",
                sv1,
                modifier_ref(line, used),
                line=line,
                severity=Severity.WARNING,
                fix=suggestion(
                    f"Remove {'/'.join(sorted(used))} from {line.code} unless the payer's own "
                    "edits require it and the record documents a distinct service."
                ),
            )


def second_modifier_ref(line: ServiceLine, wanted: set[str]) -> str:
    """The reference of the second modifier of ``wanted`` on the line (the one that clashes)."""
    seen = 0
    for position, value in zip(MODIFIER_POSITIONS, sent_modifiers(line), strict=False):
        if value in wanted:
            seen += 1
            if seen == 2:
                return f"SV101-{position}"
    return modifier_ref(line, wanted)


def _ptp_loaded(ctx: CheckContext) -> bool:
    """Whether the official NCCI practitioner PTP table was loaded."""
    return ctx.refdata.loaded("ncci-ptp")


def _ptp_allows_bypass(ctx: CheckContext, a: str, b: str, dos: date) -> bool:
    """A PTP edit between ``a`` and ``b``, either column order, that a modifier can bypass."""
    return any(
        edit is not None and edit.modifier == 1
        for edit in (ctx.refdata.ptp(a, b, dos), ctx.refdata.ptp(b, a, dos))
    )


class MOD003(Rule):
    """SV101 carries at most four modifiers, each two letters or digits, without gaps or repeats.

    What it does:
        Checks SV101-3..6: every modifier is two upper-case letters or digits; no modifier is
        repeated; no empty position comes before a filled one. SV101-7 is the description (AN
        1-80 in the TR3), never a modifier: a two-character value there is valid. When all four
        modifier positions are filled and SV101-7 holds a modifier-shaped two-character value,
        a warning says that a fifth modifier typed there is read as text.

    Why it matters:
        The 837P has room for four modifiers; a gap, a repeat or a malformed value fails the
        front-end edits (the claim is returned unprocessable), and a fifth modifier in SV101-7
        is read by the payer as the description, not as a modifier.

    Fix safety:
        Safe for gaps and exact repeats: the modifier positions are rewritten with the same
        modifiers, in the same order, without empty positions or second copies, and a
        description in SV101-7 stays there, which changes nothing the payer reads. A
        description typed one colon early (``HC:J1599:JZ:::PRIVIGEN 10G IV``, text in the last
        modifier position) gets an unsafe fix that moves it to SV101-7; closing the gap over it
        would have made the description a modifier. Any other malformed modifier, and a
        two-character SV101-7 after four modifiers, has no fix: what was meant needs a person.

    Example:
        ``SV1*HC:J1885::JZ:JZ*8*UN*2***1~`` becomes ``SV1*HC:J1885:JZ*8*UN*2***1~``.

    Sources:
        pyx12 837P map (SV101 composite C003: four modifier positions).
    """

    severity = Severity.REJECT
    severity_when = {
        Severity.WARNING: "for a modifier-shaped SV101-7 after four modifiers (a valid description)"
    }
    fix = FixAvailability.SOMETIMES
    applies_to_void = True

    needs = Need.MODIFIER

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report malformed, repeated, gapped or excess modifiers, fixing what is mechanical."""
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            # Fewer than four modifiers leave no fifth in SV101-7: the usual lines pass here.
            sent = line.modifiers
            count = len(sent)
            if count == 0 or (count == 1 and sent[0] in _MODIFIER_CODES):
                continue
            if (
                count < 4
                and all(value in _MODIFIER_CODES for value in sent)
                and len(set(sent)) == count
            ):
                continue
            mods, tail = _modifier_layout(sv1)
            if not mods:
                continue
            fifth = tail[0] if len(mods) == 4 and all(mods) and tail else ""
            if len(fifth) == 2 and _is_modifier(fifth):
                # TR3-valid as a description, but four full modifiers followed by a modifier-
                # shaped SV101-7 is how a fifth modifier gets typed: the payer reads it as text.
                yield ctx.report(
                    self,
                    f"{line.code} has four modifiers and '{fifth}' in SV101-7, the description; "
                    "if it was meant as a fifth modifier the payer will not read it as one. "
                    "Keep the four that matter for payment.",
                    sv1,
                    "SV101-7",
                    line=line,
                    severity=Severity.WARNING,
                )
            if all(v and _is_modifier(v) for v in mods) and len(set(mods)) == len(mods):
                continue  # the usual case: nothing to report, no fix to build
            # None when nothing changes.
            fix = self._fix(line, mods, tail)
            refs = [f"SV101-{p}" for p in (*MODIFIER_POSITIONS, 7)]
            for index, value in enumerate(mods):
                if value and not _is_modifier(value):
                    yield ctx.report(
                        self,
                        f"Modifier '{value}' on {line.code} is not a two-character modifier code.",
                        sv1,
                        refs[index],
                        line=line,
                    )
            gap = next((i for i, v in enumerate(mods) if not v and any(mods[i + 1 :])), None)
            if gap is not None:
                yield ctx.report(
                    self,
                    f"SV101 of {line.code} has an empty modifier position before a filled one; "
                    "close the gap.",
                    sv1,
                    refs[gap],
                    line=line,
                    fix=fix,
                )
            seen: set[str] = set()
            for index, value in enumerate(mods):
                if not value:
                    continue
                if value in seen:
                    yield ctx.report(
                        self,
                        f"Modifier {value} is repeated on {line.code}; send it once.",
                        sv1,
                        refs[index],
                        line=line,
                        fix=fix,
                    )
                seen.add(value)

    @staticmethod
    def _fix(line: ServiceLine, mods: list[str], tail: list[str]) -> Fix | None:
        """Close gaps and drop repeats; safe only when nothing but modifiers moves."""
        bad = [value for value in mods if value and not _is_modifier(value)]
        if bad:
            text = bad[0]
            if len(bad) == 1 and not tail and len(mods) <= 4 and mods[-1] == text:
                # A description typed one colon early: it belongs in SV101-7, not SV101-6.
                kept = list(dict.fromkeys(value for value in mods[:-1] if value))
                return _modifier_fix(
                    line,
                    kept,
                    [text],
                    f"Move '{text}' to SV101-7, the description, and close the gaps (unsafe: "
                    "whether it is the description, and not a mistyped modifier, is for a "
                    "person to confirm)",
                    False,
                )
            return None
        cleaned = list(dict.fromkeys(value for value in mods if value))
        return _modifier_fix(line, cleaned, tail, "Close gaps and remove repeated modifiers", True)
