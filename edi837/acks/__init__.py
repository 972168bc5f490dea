"""Acknowledgements of 837P files: TA1, 999 (005010X231A1) and 277CA (005010X214).

A clearinghouse answers the submitter in X12: the interchange gets a TA1 when its envelope is
rejected (or when ISA14 asks for one), each functional group a 999 accepting or rejecting each
transaction set with the segments and elements at fault, and each claim of an accepted
transaction set a 277CA saying whether it was accepted into adjudication or rejected and why.
All three are built from one checked pass over the file, and a claim is rejected here exactly
when ``edi837 split`` rejects it. Which finding is answered where, and with which code, is the
table of :mod:`edi837.acks.mapping` (``docs/acks.md``).

    >>> from edi837 import api
    >>> from edi837.acks import write_acks
    >>> write_acks("claims.837", "out", engine=api.load_engine())  # doctest: +SKIP
    [PosixPath('out/claims.999'), PosixPath('out/claims.277ca')]
"""

from __future__ import annotations

from edi837.acks.model import ControlNumbers
from edi837.acks.writer import (
    TYPES,
    Acknowledgements,
    Numbers,
    Reserve,
    accepted_claims,
    build_acks,
    control_numbers_needed,
    parse_delimiters,
    parse_types,
    write_acks,
)

__all__ = [
    "TYPES",
    "Acknowledgements",
    "ControlNumbers",
    "Numbers",
    "Reserve",
    "accepted_claims",
    "build_acks",
    "control_numbers_needed",
    "parse_delimiters",
    "parse_types",
    "write_acks",
]
