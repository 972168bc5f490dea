"""Reference data for the edit pass: shipped code tables and loaders for official CMS/FDA files.

The package owns every fact the rules look up rather than read from the claim: E/M and vaccine
code families, facility places of service, NOC and antineoplastic drug codes, NDC unit
spellings, billing units of common injectables (shipped, with their source and date), and the
quarterly/daily official files (NCCI PTP and MUE, ASP NDC-HCPCS crosswalk, HCPCS Level II, FDA
NDC Directory, Medicaid Drug Rebate Program drug products) read in their published layouts. It
uses the standard library only and imports nothing else from :mod:`edi837`.

Typical use::

    from edi837.refdata import load_reference

    ref = load_reference(Path("~/cms-files").expanduser())
    ref.missing()                    # official tables not found, e.g. ["hcpcs"]
    ref.missing(medicaid=True)       # ... and the Medicaid-only ones, e.g. ["hcpcs", "mdrp"]
    ref.ptp_pair(first.code, second.code, dos)   # NCCI edit in either column order
    ref.medicaid_rebate_labeler(ndc11[:5], dos)  # labeler in the MDRP on that date
"""

from .model import (
    MEDICAID_TABLES,
    OFFICIAL_TABLES,
    AntineoplasticKind,
    CrosswalkRow,
    DrugCode,
    FixSafety,
    HcpcsCode,
    Mue,
    NdcPackage,
    PtpEdit,
    ReferenceDataError,
    TableInfo,
    VaccineKind,
)
from .ndc import format_542, is_ndc11, is_placeholder, normalize_hyphenated, paddings_of_10
from .reference import ReferenceData, load_reference

__all__ = [
    "MEDICAID_TABLES",
    "OFFICIAL_TABLES",
    "AntineoplasticKind",
    "CrosswalkRow",
    "DrugCode",
    "FixSafety",
    "HcpcsCode",
    "Mue",
    "NdcPackage",
    "PtpEdit",
    "ReferenceData",
    "ReferenceDataError",
    "TableInfo",
    "VaccineKind",
    "format_542",
    "is_ndc11",
    "is_placeholder",
    "load_reference",
    "normalize_hyphenated",
    "paddings_of_10",
]
