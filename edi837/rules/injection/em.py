"""EM rules: the E/M billed beside an injection (modifier 25, 99211)."""

from __future__ import annotations

from collections.abc import Iterator

from edi837.findings import Finding, Severity
from edi837.rules.base import (
    CheckContext,
    FixAvailability,
    Rule,
    suggestion,
)
from edi837.rules.injection.common import free_modifier_ref
from edi837.rules.needs import Need
from edi837.rules.profiles import Profile
from edi837.x837p.model import Claim


class EM001(Rule):
    """An E/M billed in the same encounter as 96372 carries modifier 25.

    What it does:
        Reports an E/M line (any code the reference data places in an E/M family, such as
        99202-99205 and 99212-99215) that shares its encounter (same date, same rendering NPI)
        with a 96372 line and carries no modifier 25. 99211 is left to EM-002, because Medicare
        does not pay it with an injection even with 25.

    Why it matters:
        An E/M on the day of an injection is paid separately only when it is a significant,
        separately identifiable service, which modifier 25 on the E/M line declares. Without it
        the E/M is bundled into the injection and denied (CO-97). A different diagnosis is not
        required.

    Fix safety:
        A suggestion only, never applied: 25 asserts a separately identifiable visit that the
        record must document.

    Example:
        ``SV1*HC:99213*125*UN*1***1:2~`` with a 96372 on the same date is reported;
        ``SV1*HC:99213:25*125*UN*1***1:2~`` is not.

    Sources:
        Pub 100-04 Ch 12 §30.6.7 as revised by the CMS transmittal of 2005-10-28 (CR 3631
        follow-up; MLN Matters reprinted by Empire); Noridian "E/M Services and Drug
        Administration Billing"; NCCI Policy Manual Ch XI.
    """

    severity = Severity.DENY_RISK
    fix = FixAvailability.DISPLAY

    needs = Need.INJECTION | Need.EM_WITHOUT_25

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report E/M lines without 25 in an encounter with a 96372 line."""
        injections = ctx.injections
        if not injections:
            return
        for line in ctx.em_lines:
            if line.code == "99211" or "25" in line.modifier_codes:
                continue
            injection = next((i for i in injections if ctx.same_encounter(i, line)), None)
            if injection is None:
                continue
            yield ctx.report(
                self,
                f"E/M {line.code} is billed with 96372 (line {injection.number}) in the same "
                "encounter without modifier 25, so it will be bundled into the injection.",
                line.sv1,
                free_modifier_ref(line),
                line=line,
                fix=suggestion(
                    f"If the record documents a significant, separately identifiable E/M "
                    f"service, add modifier 25 to the {line.code} line; otherwise bill the "
                    "injection without the E/M."
                ),
            )


class EM002(Rule):
    """99211 and 96372 are not billed together in one encounter.

    What it does:
        Reports a 99211 line that shares its encounter (same patient, date and rendering NPI)
        with a 96372 line, with or without modifier 25.

    Why it matters:
        Medicare does not pay 99211 with a drug-administration code: the 99211 line is denied
        (CO-97) and 96372 stays payable. That is Medicare's policy (the 2005 transmittal), not a
        code-set rule: commercial and Medicaid plans follow it only where they apply the NCCI
        pair. CPT's own note points the other way for non-facility settings without direct
        physician supervision: report 99211 instead of 96372.

    Severity:
        Deny-risk under Medicare. Under the commercial and Medicaid profiles deny-risk only when
        the loaded NCCI practitioner PTP table has the 99211/96372 pair in effect on the service
        date with modifier indicator 0 or 1 (indicator 9 means no edit); otherwise a warning.

    Fix safety:
        A suggestion only. For Medicare the suggestion is to drop the 99211 line; deleting a
        2400 loop renumbers LX and changes CLM02, so it is left to the biller. For other payers,
        which code to keep depends on who gave the injection and under what supervision.

    Example:
        ``SV1*HC:99211*25*UN*1***1~`` and ``SV1*HC:96372*35*UN*1***1~`` on one date: the 99211
        line is reported.

    Sources:
        CMS transmittal of 2005-10-28 on Pub 100-04 Ch 12 §30.6.7 (HHS guidance repository) and
        MLN Matters; CMS NCCI practitioner PTP edits (modifier indicators); CPT 96372
        parenthetical as quoted by SuperCoder; Codapedia 2021.
    """

    severity = Severity.DENY_RISK
    severity_when = {
        Severity.WARNING: (
            "under the commercial and Medicaid profiles unless the loaded NCCI table has the pair"
        )
    }
    fix = FixAvailability.DISPLAY

    needs = Need.INJECTION | Need.EM_WITHOUT_25

    def check(self, claim: Claim, ctx: CheckContext) -> Iterator[Finding]:
        """Report 99211 lines in an encounter with a 96372 line."""
        injections = ctx.injections
        if not injections:
            return
        for line in claim.lines:
            if line.code != "99211":
                continue
            injection = next((i for i in injections if ctx.same_encounter(i, line)), None)
            if injection is None:
                continue
            severity = Severity.DENY_RISK
            if ctx.profile is Profile.MEDICARE:
                message = (
                    f"Medicare does not pay 99211 with 96372 (line {injection.number}) in "
                    "the same encounter; the 99211 line will be denied."
                )
                advice = (
                    f"Remove the 99211 line and reduce CLM02 by its charge; 96372 (line "
                    f"{injection.number}) stays payable."
                )
            else:
                edit = (
                    ctx.refdata.ptp_pair("99211", "96372", line.service_date)
                    if line.service_date is not None
                    else None
                )
                # Only an NCCI pair in effect (indicator 0 or 1) makes this payer deny it;
                # indicator 9 means the edit was withdrawn.
                severity = (
                    Severity.DENY_RISK
                    if edit is not None and edit.modifier != 9
                    else Severity.WARNING
                )
                message = (
                    f"99211 and 96372 (line {injection.number}) are billed in the same "
                    "encounter; "
                    + (
                        "the loaded NCCI table pairs them, "
                        if severity is Severity.DENY_RISK
                        else "Medicare denies 99211 with 96372 and plans that follow it may too; "
                    )
                    + "bill one of them."
                )
                advice = (
                    "Keep 96372 when the injection was given under direct supervision, or "
                    "99211 instead of 96372 where the payer follows CPT's note for "
                    "unsupervised nurse visits; remove the other line and correct CLM02."
                )
            yield ctx.report(
                self,
                message,
                line.sv1,
                "SV101-2",
                line=line,
                severity=severity,
                fix=suggestion(advice),
            )
