"""What a claim carries that a rule needs before it can report anything.

Most claims of a file are E/M visits, labs and imaging: no 96372, no drug line, no 2410, no
vaccine. A rule about NDCs cannot fire on such a claim, so a rule declares in ``needs`` the
kinds of content it looks at (all of them must be present), and the engine runs it only on
claims that have them. The claim's kinds are worked out in the same pass that classifies its
lines (:func:`edi837.rules.lines.classify_lines`), so the test costs one integer comparison.

A declaration is a promise that the rule yields nothing without that content;
``tests/test_rule_needs.py`` runs every rule ungated over every rule case and sample and checks
that each finding comes from a claim that has what its rule declares.
"""

from __future__ import annotations

from enum import IntFlag


class Need(IntFlag):
    """Kinds of claim content, as bits: a rule's ``needs`` and a claim's ``LineKinds.needs``."""

    NOTHING = 0
    #: A CPT 96372 line (SV101-2).
    INJECTION = 1
    #: A drug line (:func:`edi837.rules.lines.is_drug_code` under the claim's profile).
    DRUG = 2
    #: A 2410 drug identification loop (LIN/CTP/REF) on any line.
    NDC_LOOP = 4
    #: A line billed with a NOC/unlisted drug code and an SV1.
    NOC = 8
    #: An E/M line (a code the reference data places in an E/M family).
    EM = 16
    #: A vaccine or toxoid product line.
    VACCINE = 32
    #: An immunization administration line (90460-90474, 90480, G0008-G0010).
    VACCINE_ADMIN = 64
    #: A line with its own rendering (2420A) or supervising (2420D) provider.
    LINE_PROVIDER = 128
    #: A supervising provider, claim-level (2310D) or line-level (2420D).
    SUPERVISOR = 256
    #: A modifier in SV101-3..6 of any line.
    MODIFIER = 512
    #: JW or JZ on any line (drug wastage modifiers).
    WASTAGE_MODIFIER = 1024
    #: CLM05-3 7 or 8: a replacement or a void.
    CORRECTION = 2048
    #: Modifier 25 on a 96372 or drug line (it belongs on the E/M line).
    MISPLACED_25 = 4096
    #: A distinct-procedural-service modifier (59, XE, XP, XS, XU) on any line.
    DISTINCT_MODIFIER = 8192
    #: A drug line without a 2410 (no NDC).
    DRUG_WITHOUT_NDC = 16384
    #: Two or more 96372 lines.
    SEVERAL_INJECTIONS = 1 << 15
    #: A 96372 line billed with more than one unit.
    SEVERAL_INJECTION_UNITS = 1 << 16
    #: A 2410 under a 96372 line (the NDC belongs on the drug line).
    NDC_ON_INJECTION = 1 << 17
    #: A REF in a 2410 (link sequence or prescription number).
    NDC_REF = 1 << 18
    #: JW (discarded drug) on any line.
    JW = 1 << 19
    #: JW or JZ on a line that is not a drug line.
    WASTAGE_ON_PROCEDURE = 1 << 20
    #: A line whose place of service (SV105, else CLM05-1) is telehealth, 02 or 10.
    TELEHEALTH = 1 << 21
    #: A 99211 line, or an E/M line without modifier 25.
    EM_WITHOUT_25 = 1 << 22
    #: A drug line the antineoplastic table lists, or any J9000-J9999 code.
    ANTINEOPLASTIC = 1 << 23
    #: Two or more lines whose codes administer drugs (``administration_codes.csv``).
    SEVERAL_ADMINISTRATIONS = 1 << 24


#: What the documentation says for each kind.
DESCRIPTIONS: dict[Need, str] = {
    Need.INJECTION: "a 96372 line",
    Need.DRUG: "a drug line",
    Need.NDC_LOOP: "a 2410 (LIN/CTP)",
    Need.NOC: "a NOC drug line",
    Need.EM: "an E/M line",
    Need.VACCINE: "a vaccine product line",
    Need.VACCINE_ADMIN: "an immunization administration line",
    Need.LINE_PROVIDER: "a 2420A or 2420D",
    Need.SUPERVISOR: "a supervising provider (2310D or 2420D)",
    Need.MODIFIER: "a modifier",
    Need.WASTAGE_MODIFIER: "a JW or JZ modifier",
    Need.CORRECTION: "a replacement or void (CLM05-3 7 or 8)",
    Need.MISPLACED_25: "modifier 25 on a 96372 or drug line",
    Need.DISTINCT_MODIFIER: "a 59 or X{EPSU} modifier",
    Need.DRUG_WITHOUT_NDC: "a drug line without a 2410",
    Need.SEVERAL_INJECTIONS: "two 96372 lines",
    Need.SEVERAL_INJECTION_UNITS: "a 96372 of more than one unit",
    Need.NDC_ON_INJECTION: "a 2410 under a 96372",
    Need.NDC_REF: "a REF in a 2410",
    Need.JW: "a JW modifier",
    Need.WASTAGE_ON_PROCEDURE: "JW or JZ on a line that is not a drug line",
    Need.TELEHEALTH: "a telehealth place of service",
    Need.EM_WITHOUT_25: "a 99211 or an E/M line without 25",
    Need.ANTINEOPLASTIC: "an antineoplastic drug line",
    Need.SEVERAL_ADMINISTRATIONS: "two administration lines",
}


def describe(needs: Need) -> str:
    """The kinds of ``needs`` in words, joined with ``and`` (empty for none)."""
    return " and ".join(text for kind, text in DESCRIPTIONS.items() if kind & needs)
