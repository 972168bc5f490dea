"""The TA1 interchange acknowledgement: does the envelope itself stand?

A TA1 answers one ISA/IEA: TA101-TA103 echo the interchange's control number, date and time,
TA104 says ``A`` (accepted), ``E`` (accepted, errors noted) or ``R`` (rejected) and TA105 gives
the note code of the envelope problem (``001`` IEA02 differs from ISA13, ``021`` IEA01 does not
count the groups, ``022`` an invalid control structure ... ``000`` none). One is written when
the sender asked for it (ISA14 = 1) and whenever the split rejects the whole interchange (then
no 999 follows); never for an interchange holding no 837P transaction set, so an
acknowledgement is never acknowledged.
"""

from __future__ import annotations

from edi837.acks.intake import Intake, InterchangeRecord
from edi837.acks.model import Out, out

NO_ERROR = "000"
_UNKNOWN_STRUCTURE = "024"  # invalid interchange content


def wanted(intake: Intake, record: InterchangeRecord) -> bool:
    """A TA1 when asked for (ISA14 = 1) or when the interchange is rejected."""
    if not any(group.transactions for group in record.groups):
        return False
    return record.isa.element(14) == "1" or intake.interchange_rejected(record)


def build(intake: Intake, record: InterchangeRecord) -> Out:
    """The TA1 segment answering ``record``."""
    isa = record.isa
    if intake.interchange_rejected(record):
        status, notes = "R", record.notes or [_UNKNOWN_STRUCTURE]
    elif record.warnings or record.notes:
        status, notes = "E", record.warnings or record.notes
    else:
        status, notes = "A", [NO_ERROR]
    return out("TA1", isa.element(13), isa.element(9), isa.element(10), status, notes[0])
