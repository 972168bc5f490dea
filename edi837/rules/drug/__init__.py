"""The drug family: NDC, CTP, REF, drug-unit and NOC rules of the drug line (catalogue §3).

A drug line is a 2400 whose SV101-2 is a drug or biological (``CheckContext.is_drug_line``);
its loop 2410 identifies the product: LIN02 ``N4`` with the 11-digit NDC in LIN03, CTP04 the
quantity in NDC units and CTP05-1 the unit, and an optional REF (``XZ`` prescription number or
``VY`` link sequence). These rules check that the NDC is where it belongs, well formed, real,
marketed and billable under the line's HCPCS code; that the NDC quantity is an X12 decimal in
an 837P unit that fits the product; and that NOC drug lines say what was given.

Every lookup goes through :class:`~edi837.refdata.ReferenceData`. When an official table (FDA
NDC Directory, ASP NDC-HCPCS crosswalk, MDRP rebate labelers) is not loaded, the rules that
need it stay silent: a code missing from a partial table is unknown, not invalid.

One module per rule group: :mod:`.ndc` (NDC), :mod:`.ctp` (CTP quantity and unit),
:mod:`.ref` (REF), :mod:`.units` (DRG drug units and charges), :mod:`.noc` (NOC drugs);
:mod:`.common` holds what they share.
"""

from __future__ import annotations

from edi837.rules.base import Rule
from edi837.rules.drug.ctp import CTP001, CTP002, CTP003, CTP004
from edi837.rules.drug.ndc import NDC001, NDC002, NDC003, NDC004, NDC006, NDC007, NDC008, NDC009
from edi837.rules.drug.noc import NOC001, NOC002, NOC003
from edi837.rules.drug.ref import REF001
from edi837.rules.drug.units import DRG001, DRG002

RULES: list[type[Rule]] = [
    NDC001,
    NDC002,
    NDC003,
    NDC004,
    NDC006,
    NDC007,
    NDC008,
    NDC009,
    CTP001,
    CTP002,
    CTP003,
    CTP004,
    REF001,
    DRG001,
    DRG002,
    NOC001,
    NOC002,
    NOC003,
]
