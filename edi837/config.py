"""The configuration file ``edi837.toml``: reading it into :class:`~edi837.rules.settings.Settings`.

Looked up as ``--config FILE`` or ``edi837.toml`` in the working folder. Every key is optional::

    select = ["NDC", "INJ"]          # codes or prefixes to run
    ignore = ["JWZ-004"]
    profile = "auto"                 # or medicare / medicaid / commercial
    refdata = "/srv/cms/2026q3"      # folder of official CMS/FDA files
    extra_noc = ["J3590"]            # more NOC/unlisted drug codes
    facility_pos = ["19", "21", "22", "23"]
    remove_25_safe = true            # MOD-001: removing 25 from a non-E/M line is a safe fix
    drug_line_required = ["medicaid"]  # INJ-002 becomes deny-risk for these profiles
    jwz_profiles = ["medicare"]      # payers that require JW/JZ (JWZ-001)

    [severity]                       # per-code severity overrides
    "NDC-002" = "warning"

    [ndc_policy]                     # all | noc | none, per profile (NDC-002)
    commercial = "all"

    [payers]                         # profile per payer id (2010BB NM109)
    EXCOM = "medicaid"

Errors name the file and the key, so a typo never silently disables a check.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edi837.findings import Severity
from edi837.rules.profiles import Profile
from edi837.rules.settings import DEFAULT_NDC_POLICY, Settings

CONFIG_NAME = "edi837.toml"
_KEYS = {
    "select",
    "ignore",
    "profile",
    "refdata",
    "extra_noc",
    "facility_pos",
    "remove_25_safe",
    "drug_line_required",
    "jwz_profiles",
    "severity",
    "ndc_policy",
    "payers",
}


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


def _strings(key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings")
    return [v.strip().upper() if key in ("select", "ignore", "extra_noc") else v for v in value]


def _profile(key: str, value: Any) -> Profile:
    try:
        return Profile(str(value).lower())
    except ValueError:
        names = ", ".join(p.value for p in Profile)
        raise ConfigError(f"{key}: {value!r} is not a profile ({names})") from None


def _severity(key: str, value: Any) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        names = ", ".join(s.value for s in Severity)
        raise ConfigError(f"{key}: {value!r} is not a severity ({names})") from None


def settings_from_mapping(data: Mapping[str, Any], base: Settings | None = None) -> Settings:
    """Settings from the parsed TOML table, on top of ``base`` (defaults when ``None``)."""
    settings = base or Settings()
    unknown = set(data) - _KEYS
    if unknown:
        raise ConfigError(f"unknown key(s): {', '.join(sorted(unknown))}")
    if "select" in data:
        settings.select = _strings("select", data["select"])
    if "ignore" in data:
        settings.ignore = _strings("ignore", data["ignore"])
    if "profile" in data:
        value = str(data["profile"]).lower()
        settings.profile = value if value == "auto" else _profile("profile", value).value
    if "refdata" in data:
        settings.refdata = str(data["refdata"])
    if "extra_noc" in data:
        settings.extra_noc = frozenset(_strings("extra_noc", data["extra_noc"]))
    if "facility_pos" in data:
        settings.facility_pos = frozenset(_strings("facility_pos", data["facility_pos"]))
    if "remove_25_safe" in data:
        if not isinstance(data["remove_25_safe"], bool):
            raise ConfigError("remove_25_safe must be true or false")
        settings.remove_25_safe = data["remove_25_safe"]
    for key in ("drug_line_required", "jwz_profiles"):
        if key in data:
            profiles = frozenset(_profile(key, v) for v in _strings(key, data[key]))
            setattr(settings, key, profiles)
    for code, value in dict(data.get("severity", {})).items():
        settings.severity[str(code).upper()] = _severity(f"severity.{code}", value)
    policy = dict(DEFAULT_NDC_POLICY)
    policy.update(settings.ndc_policy)
    for name, value in dict(data.get("ndc_policy", {})).items():
        if value not in ("all", "noc", "none"):
            raise ConfigError(f"ndc_policy.{name} must be all, noc or none")
        policy[_profile(f"ndc_policy.{name}", name)] = value
    settings.ndc_policy = policy
    for payer, value in dict(data.get("payers", {})).items():
        settings.payer_profiles[str(payer)] = _profile(f"payers.{payer}", value)
    return settings


def load_config(
    path: Path | None = None, folder: Path | None = None
) -> tuple[Settings, Path | None]:
    """Settings from ``path``, or from ``edi837.toml`` in ``folder`` (the working folder).

    Returns the settings and the file they came from (``None`` when there was none).
    """
    if path is None:
        candidate = (folder or Path.cwd()) / CONFIG_NAME
        if not candidate.is_file():
            return Settings(), None
        path = candidate
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return settings_from_mapping(data), path
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
