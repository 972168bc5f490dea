"""The configuration file ``edi837.toml``: reading it into :class:`~edi837.rules.settings.Settings`.

Looked up as ``--config FILE`` or ``edi837.toml`` in the working folder. Every key is optional::

    select = ["NDC", "INJ"]          # codes or prefixes to run
    ignore = ["JWZ-004"]
    profile = "auto"                 # or medicare / medicaid / commercial
    refdata = "/srv/cms/2026q3"      # folder of official CMS/FDA files
    # or, to also replace the addresses `edi837 refdata update` downloads from:
    # [refdata]
    # dir = "/srv/cms"
    # [refdata.urls]                 # per table: a landing page or the file itself
    # mue = "https://mirror.example/medicare-ncci-2026-q3-practitioner-services-mue-table.zip"
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

Errors name the file and the key, so a typo never silently disables a check. Without a
``refdata`` setting, the folder ``edi837 refdata update`` fills by default (the user's data
folder, :func:`default_refdata_folder`) is used once it holds a manifest.
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
        folder = data["refdata"]
        if isinstance(folder, dict):
            refdata_urls(data)  # validated here so a typo fails on every command
            folder = folder.get("dir")
        if folder is not None:
            settings.refdata = str(folder)
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
    found = _read(path, folder)
    if found is None:
        return Settings(), None
    data, path = found
    try:
        return settings_from_mapping(data), path
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _read(path: Path | None, folder: Path | None) -> tuple[dict[str, Any], Path] | None:
    """The parsed file and its path; None when no path is given and the folder has none."""
    if path is None:
        candidate = (folder or Path.cwd()) / CONFIG_NAME
        if not candidate.is_file():
            return None
        path = candidate
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), path
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def refdata_urls(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The ``[refdata.urls]`` table: per official table, the addresses to download from.

    A value is one URL or a list of them (the NCCI PTP edition comes as four zips).
    """
    from edi837.refdata.published import BY_NAME

    table = data.get("refdata")
    if not isinstance(table, dict):
        return {}
    unknown = set(table) - {"dir", "urls"}
    if unknown:
        raise ConfigError(f"refdata: unknown key(s): {', '.join(sorted(unknown))}")
    if "dir" in table and not isinstance(table["dir"], str):
        raise ConfigError("refdata.dir must be a string (a folder)")
    urls = table.get("urls", {})
    if not isinstance(urls, dict):
        raise ConfigError("refdata.urls must be a table of table name = URL")
    found: dict[str, list[str]] = {}
    for name, value in urls.items():
        if name not in BY_NAME:
            raise ConfigError(f"refdata.urls.{name}: not a table ({', '.join(BY_NAME)})")
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v.startswith(("https://", "http://")) for v in values)
        ):
            raise ConfigError(f"refdata.urls.{name} must be an http(s) URL or a list of them")
        found[name] = list(values)
    return found


def load_refdata_urls(path: Path | None = None, folder: Path | None = None) -> dict[str, list[str]]:
    """``[refdata.urls]`` from ``path`` or ``edi837.toml`` in ``folder`` (empty when none)."""
    found = _read(path, folder)
    if found is None:
        return {}
    data, path = found
    try:
        return refdata_urls(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def user_refdata_folder() -> Path:
    """Where ``edi837 refdata update`` keeps the official files by default (user data folder)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("edi837"))


def default_refdata_folder() -> Path | None:
    """The user data folder when an update has filled it (it holds a manifest), else None."""
    folder = user_refdata_folder()
    return folder if (folder / "manifest.json").is_file() else None
