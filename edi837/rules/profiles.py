"""Payer profiles: which payer's policy a claim is checked under (catalogue §0).

A profile is chosen from SBR09 (the claim filing indicator) under ``auto``, from the payer id
in the configuration, or forced on the command line. Rules read it to pick severities and
payer-specific requirements (JW/JZ for Medicare, NDCs on every drug line for Medicaid).
"""

from __future__ import annotations

from enum import StrEnum


class Profile(StrEnum):
    """The payer profile a claim is checked under (catalogue §0)."""

    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"

    @classmethod
    def from_filing_indicator(cls, sbr09: str) -> Profile:
        """``auto``: SBR09 ``MB`` is Medicare Part B, ``MC`` Medicaid, anything else commercial."""
        if sbr09 == "MB":
            return cls.MEDICARE
        if sbr09 == "MC":
            return cls.MEDICAID
        return cls.COMMERCIAL
