"""What a user can configure: :class:`Settings`, read from ``edi837.toml`` and the command line.

The defaults here are the catalogue's: every rule selected except the opt-in ones, the profile
taken from SBR09, NDCs required per profile as payers require them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edi837.findings import Severity
from edi837.rules.profiles import Profile

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
