"""The small curated tables shipped in ``edi837/refdata/tables/`` and their lookups.

Each table is a CSV file whose leading ``#`` lines give its provenance (``# source:``,
``# as_of:``, optional ``# note:``), followed by a header row. These tables are partial by
design: they name code families and facts the official CMS/FDA files do not carry in one place
(E/M families, vaccine kinds, facility POS risk, NOC codes, NDC unit spellings, billing units of
common injectables). They are read once per process (:func:`shipped_tables`).
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from .model import AdministrationCode, DrugCode, DrugDelivery, ReferenceDataError, TableInfo

#: Shipped table name -> (file name, required columns).
TABLE_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "em-codes": ("em_codes.csv", ("code", "family", "valid_through")),
    "vaccine-products": ("vaccine_products.csv", ("code", "kind", "vaccine", "medicare_part")),
    "vaccine-admin": ("vaccine_admin.csv", ("code", "for_kind", "add_on")),
    "immune-globulins": ("immune_globulins.csv", ("code", "product")),
    "facility-pos": ("facility_pos.csv", ("pos", "name", "risk", "medicare_facility_rate")),
    "pos-codes": ("pos_codes.csv", ("code", "name", "status")),
    "noc-drugs": ("noc_drugs.csv", ("code", "hospital_only", "descriptor")),
    "antineoplastic": ("antineoplastic.csv", ("code", "kind", "drug")),
    "ndc-units": ("ndc_units.csv", ("unit", "name", "valid", "replacement", "fix")),
    "administration-codes": (
        "administration_codes.csv",
        ("low", "high", "route", "delivers", "per_unit", "valid_from", "valid_through", "source"),
    ),
    "drug-delivery": ("drug_delivery.csv", ("low", "high", "kind", "route", "source")),
    "injectable-drugs": (
        "injectable_drugs.csv",
        ("code", "unit_quantity", "unit", "up_to", "descriptor", "form", "single_dose"),
    ),
}

_VACCINE_KINDS = {"flu", "pneumococcal", "hepatitis B", "covid", "other"}
_ADMIN_KINDS = _VACCINE_KINDS | {"any"}
_RISKS = {"high", "medium", "low"}
# "hormonal-if-neoplasm": a hormonal drug that is antineoplastic therapy only when given for a
# neoplasm (leuprolide J1950 for prostate cancer, not for endometriosis); the pointed diagnosis
# decides, so the code-family lookup leaves it out and the chemotherapy rule reads the table.
_ANTINEOPLASTIC_KINDS = {"hormonal", "non-hormonal", "hormonal-if-neoplasm", "none"}
# Which Medicare part pays a vaccine product: B (influenza, pneumococcal, hepatitis B,
# COVID-19), D (every other commercially available vaccine), B-exposure (Part D, but Part B
# when given after an injury or exposure: tetanus- and rabies-containing vaccines); empty when
# the table does not say.
_MEDICARE_PARTS = {"B", "D", "B-exposure", ""}
_POS_STATUS = {"assigned", "unassigned"}
_YES_NO = {"yes", "no"}
_SINGLE_DOSE = {"yes", "no", "mixed"}
_FORMS = {"solution", "powder", "suspension", "varies"}
_DELIVERY_KINDS = {
    "iv-fluid",
    "device",
    "hyaluronan",
    "oral",
    "intravitreal",
    "rsv-antibody",
    "iv-only",
    "corticosteroid",
}
_DRUG_CLASSES = _DELIVERY_KINDS | {"injectable", "antineoplastic", "immune-globulin", "vaccine"}
_DRUG_UNITS = {"MG", "MCG", "G", "ML", "UNITS", "USP UNITS", "IU", "NOC"}


@dataclass(frozen=True, slots=True)
class ShippedTable:
    """One parsed shipped table: its provenance and its rows as column -> value."""

    info: TableInfo
    rows: tuple[dict[str, str], ...]


def parse_table(name: str, text: str, path: Path) -> ShippedTable:
    """Parse one shipped table: provenance comments, then CSV with a header row.

    Args:
        name: Table name (a key of :data:`TABLE_FILES`).
        text: The file's text.
        path: Where it was read from, for :class:`TableInfo` and error messages.

    Returns:
        The table with its provenance.

    Raises:
        ReferenceDataError: When ``source``/``as_of`` or a required column is missing.
    """
    meta: dict[str, str] = {}
    lines = text.splitlines()
    first_data = 0
    for index, line in enumerate(lines):
        if not line.startswith("#"):
            first_data = index
            break
        key, sep, value = line[1:].partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip()
    else:
        first_data = len(lines)
    if not meta.get("source") or not meta.get("as_of"):
        raise ReferenceDataError(str(path), "shipped table lacks '# source:' or '# as_of:' lines")
    reader = csv.DictReader(io.StringIO("\n".join(lines[first_data:])))
    header = [column.strip() for column in reader.fieldnames or []]
    required = TABLE_FILES[name][1]
    missing = [column for column in required if column not in header]
    if missing:
        raise ReferenceDataError(str(path), f"missing columns {', '.join(missing)}")
    rows = tuple(
        {key.strip(): (value or "").strip() for key, value in row.items() if key is not None}
        for row in reader
        if any((value or "").strip() for value in row.values() if isinstance(value, str))
    )
    info = TableInfo(name, meta["source"], meta["as_of"], path, len(rows), full=False)
    return ShippedTable(info, rows)


def _check(table: ShippedTable, column: str, allowed: set[str]) -> None:
    for row in table.rows:
        if row[column] not in allowed:
            raise ReferenceDataError(
                str(table.info.path), f"{column} {row[column]!r} is not one of {sorted(allowed)}"
            )


@dataclass(frozen=True, slots=True)
class ShippedTables:
    """Lookups built from the shipped tables (read-only after construction)."""

    infos: tuple[TableInfo, ...]
    em: dict[str, str]
    em_valid_through: dict[str, str]
    vaccine_products: dict[str, str]
    vaccine_admin: dict[str, str]
    immune_globulins: dict[str, str]
    facility_pos: dict[str, str]
    pos_codes: dict[str, str]
    noc: dict[str, bool]
    noc_descriptors: dict[str, str]
    antineoplastic: dict[str, str]
    ndc_units_valid: frozenset[str]
    ndc_unit_fixes: dict[str, tuple[str, str]]
    drugs: dict[str, DrugCode]
    administrations: tuple[AdministrationCode, ...]
    drug_delivery: tuple[DrugDelivery, ...]
    pos_unassigned: frozenset[str] = frozenset()
    vaccine_medicare_part: dict[str, str] = field(default_factory=dict)


def _date(table: ShippedTable, text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise ReferenceDataError(str(table.info.path), f"bad date {text!r}") from exc


def _administrations(table: ShippedTable) -> tuple[AdministrationCode, ...]:
    _check(table, "per_unit", _YES_NO)
    rows = []
    for row in table.rows:
        delivers = frozenset(row["delivers"].split())
        unknown = delivers - _DRUG_CLASSES
        if unknown or not delivers:
            raise ReferenceDataError(
                str(table.info.path), f"{row['low']}: delivers {sorted(unknown)} unknown"
            )
        rows.append(
            AdministrationCode(
                low=row["low"],
                high=row["high"],
                route=row["route"],
                delivers=delivers,
                per_unit=row["per_unit"] == "yes",
                valid_from=_date(table, row["valid_from"]),
                valid_through=_date(table, row["valid_through"]),
                what=row.get("what", ""),
                source=row["source"],
            )
        )
    return tuple(rows)


def build(tables: dict[str, ShippedTable]) -> ShippedTables:
    """Validate the parsed tables and index them for lookups.

    Raises:
        ReferenceDataError: When a value lies outside its documented vocabulary.
    """
    _check(tables["vaccine-products"], "kind", _VACCINE_KINDS)
    _check(tables["vaccine-admin"], "for_kind", _ADMIN_KINDS)
    _check(tables["vaccine-products"], "medicare_part", _MEDICARE_PARTS)
    _check(tables["pos-codes"], "status", _POS_STATUS)
    _check(tables["facility-pos"], "risk", _RISKS)
    _check(tables["noc-drugs"], "hospital_only", _YES_NO)
    _check(tables["antineoplastic"], "kind", _ANTINEOPLASTIC_KINDS)
    _check(tables["ndc-units"], "valid", _YES_NO)
    misspellings = [row for row in tables["ndc-units"].rows if row["valid"] == "no"]
    _check(ShippedTable(tables["ndc-units"].info, tuple(misspellings)), "fix", {"safe", "unsafe"})
    drug_table = tables["injectable-drugs"]
    _check(drug_table, "up_to", _YES_NO)
    _check(drug_table, "form", _FORMS)
    _check(drug_table, "single_dose", _SINGLE_DOSE)
    _check(drug_table, "unit", _DRUG_UNITS)
    _check(tables["drug-delivery"], "kind", _DELIVERY_KINDS)

    drugs: dict[str, DrugCode] = {}
    for row in drug_table.rows:
        try:
            quantity = Decimal(row["unit_quantity"])
        except InvalidOperation as exc:
            raise ReferenceDataError(
                str(drug_table.info.path), f"{row['code']}: bad unit_quantity"
            ) from exc
        drugs[row["code"]] = DrugCode(
            code=row["code"],
            unit_quantity=quantity,
            unit=row["unit"],
            up_to=row["up_to"] == "yes",
            descriptor=row["descriptor"],
            form=row["form"],
            single_dose=row["single_dose"],
        )

    units = tables["ndc-units"].rows
    return ShippedTables(
        infos=tuple(table.info for table in tables.values()),
        em={row["code"]: row["family"] for row in tables["em-codes"].rows},
        em_valid_through={
            row["code"]: row["valid_through"]
            for row in tables["em-codes"].rows
            if row["valid_through"]
        },
        vaccine_products={row["code"]: row["kind"] for row in tables["vaccine-products"].rows},
        vaccine_admin={row["code"]: row["for_kind"] for row in tables["vaccine-admin"].rows},
        immune_globulins={row["code"]: row["product"] for row in tables["immune-globulins"].rows},
        facility_pos={row["pos"]: row["risk"] for row in tables["facility-pos"].rows},
        pos_codes={
            row["code"]: row["name"]
            for row in tables["pos-codes"].rows
            if row["status"] == "assigned"
        },
        noc={row["code"]: row["hospital_only"] == "yes" for row in tables["noc-drugs"].rows},
        noc_descriptors={row["code"]: row["descriptor"] for row in tables["noc-drugs"].rows},
        antineoplastic={row["code"]: row["kind"] for row in tables["antineoplastic"].rows},
        ndc_units_valid=frozenset(row["unit"] for row in units if row["valid"] == "yes"),
        ndc_unit_fixes={
            row["unit"]: (row["replacement"], row["fix"])
            for row in units
            if row["valid"] == "no" and row["replacement"]
        },
        drugs=drugs,
        pos_unassigned=frozenset(
            row["code"] for row in tables["pos-codes"].rows if row["status"] == "unassigned"
        ),
        vaccine_medicare_part={
            row["code"]: row["medicare_part"]
            for row in tables["vaccine-products"].rows
            if row["medicare_part"]
        },
        administrations=_administrations(tables["administration-codes"]),
        drug_delivery=tuple(
            DrugDelivery(
                row["low"],
                row["high"],
                row["kind"],
                row["route"],
                row.get("what", ""),
                row["source"],
            )
            for row in tables["drug-delivery"].rows
        ),
    )


@functools.cache
def shipped_tables() -> ShippedTables:
    """Read and index the shipped tables once per process."""
    folder = resources.files(__package__).joinpath("tables")
    parsed: dict[str, ShippedTable] = {}
    for name, (file_name, _columns) in TABLE_FILES.items():
        resource = folder.joinpath(file_name)
        parsed[name] = parse_table(name, resource.read_text(encoding="utf-8"), Path(str(resource)))
    return build(parsed)
