"""Synthetic 837P (005010X222A1) benchmark file generator.

Owns the large, invented input that the benchmarks feed to ``edi837 check``: one interchange
with one functional group, split into transaction sets of at most 5,000 claims, each claim a
CPT 96372 injection encounter (usually an E/M with modifier 25, the 96372 line and a HCPCS drug
line carrying its NDC in loop 2410). Every name, member id, NPI and address is invented; NPIs
pass the Luhn check with the 80840 prefix so that identifier checks see well-formed values.

With ``--mix`` the file looks like a primary-care practice's day instead: about one claim in
ten is such an injection encounter, the rest are office visits, laboratory panels and plain
imaging with no drug line, so rules that look only at injections and drugs have little to do.

Unless ``--clean`` is given, a small share of claims carries the problems the edit pass looks
for: a drug line without its 2410 NDC, a hyphenated NDC in LIN03, ``MG`` as the CTP05-1 unit
(not in the TR3 list, so pyx12 rejects it), and modifier 25 on the 96372 line.

The output is written claim by claim, so memory stays flat whatever ``--claims`` is::

    python bench/gen837.py --claims 100000 --out /tmp/bench-100k.837 --seed 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

#: The 837 implementation guides recommend no more than 5,000 CLM segments per transaction
#: set, and receivers enforce it, so larger files are split into several ST/SE.
MAX_CLAIMS_PER_TRANSACTION: Final = 5000

TERMINATOR: Final = "~\n"
SUBMITTER_ID: Final = "EDI837BENCH"
RECEIVER_ID: Final = "EDI837BENCHRCV"
CREATED: Final = dt.datetime(2026, 1, 5, 8, 0)

# Shares of claims (per claim, independent) that carry a deliberate problem.
SHARE_MISSING_NDC: Final = 0.03
SHARE_HYPHENATED_NDC: Final = 0.02
SHARE_MG_UNIT: Final = 0.02
SHARE_25_ON_96372: Final = 0.02
# Encounter mix.
SHARE_WITHOUT_EM: Final = 0.10
SHARE_PATIENT_LOOP_COMMERCIAL: Final = 0.30
SHARE_SECOND_DIAGNOSIS: Final = 0.60
# With --mix: the share of claims that are injection encounters; the others split evenly
# between office visits, laboratory and imaging.
SHARE_INJECTION_IN_MIX: Final = 0.10


def npi_check_digit(base9: str) -> str:
    """Return the NPI check digit for nine leading digits (Luhn over ``80840`` + digits)."""
    total = 0
    # Walking right to left over the prefixed digits; the check digit itself would sit at
    # position 0, so the digits at even offsets here are the ones doubled.
    for offset, char in enumerate(reversed("80840" + base9)):
        digit = int(char)
        if offset % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def fake_npi(serial: int) -> str:
    """Return an invented, Luhn-valid NPI: ``1999``, a five-digit serial, the check digit."""
    base9 = f"1999{serial:05d}"
    return base9 + npi_check_digit(base9)


def amount(cents: int) -> str:
    """Format cents as an X12 decimal: no trailing fractional zeros, no bare decimal point."""
    whole, frac = divmod(cents, 100)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:02d}".rstrip("0")


@dataclass(frozen=True, slots=True)
class Dose:
    """One way a drug is given: HCPCS billing units, the NDC used and its NDC quantity."""

    units: int
    ndc: str
    ndc_quantity: str


@dataclass(frozen=True, slots=True)
class Drug:
    """A physician-administered drug billed with 96372, as the claim line needs it."""

    hcpcs: str
    #: The HCPCS short descriptor with its billing unit ("per 15 mg"), which sets SV104.
    description: str
    cents_per_unit: int
    ctp_unit: str
    doses: tuple[Dose, ...]
    diagnoses: tuple[str, ...]
    #: Milligrams per HCPCS billing unit, used to write the wrong ``MG`` quantity; ``None``
    #: for drugs dosed in other units (international units of penicillin).
    mg_per_unit: float | None


# NDCs are well-formed 11-digit 5-4-2 values chosen to look like the labelled products; they
# are not checked against the FDA NDC Directory and the benchmark does not rely on them.
DRUGS: Final[tuple[Drug, ...]] = (
    Drug("J1885", "ketorolac tromethamine, per 15 mg", 400, "ML",
         (Dose(2, "00409379501", "1"), Dose(4, "00409379601", "2")),
         ("M5450", "M25561", "G43909", "M7918"), 15.0),
    Drug("J3301", "triamcinolone acetonide, per 10 mg", 300, "ML",
         (Dose(4, "00003029305", "1"), Dose(8, "00003029305", "2")),
         ("J301", "J302", "L209", "L309"), 10.0),
    Drug("J0696", "ceftriaxone sodium, per 250 mg", 150, "UN",
         (Dose(4, "60505075100", "1"), Dose(2, "60505075000", "1")),
         ("J189", "N390", "H6693"), 250.0),
    Drug("J1030", "methylprednisolone acetate, 40 mg", 900, "ML",
         (Dose(1, "00009307301", "1"),),
         ("J441", "J4521", "L509", "T7840XA"), 40.0),
    Drug("J1040", "methylprednisolone acetate, 80 mg", 1600, "ML",
         (Dose(1, "00009307401", "1"),),
         ("J441", "J4521", "M0600"), 80.0),
    Drug("J1100", "dexamethasone sodium phosphate, 1 mg", 50, "ML",
         (Dose(4, "63323016501", "1"), Dose(10, "63323050601", "1")),
         ("J029", "J45901", "T7840XA"), 1.0),
    Drug("J2550", "promethazine HCl, up to 50 mg", 700, "ML",
         (Dose(1, "00641608225", "1"),),
         ("R112", "R110"), 50.0),
    Drug("J3420", "vitamin B-12 cyanocobalamin, up to 1000 mcg", 500, "ML",
         (Dose(1, "63323004401", "1"),),
         ("D510", "E538", "D518"), 1.0),
    Drug("J0561", "penicillin G benzathine, 100,000 units", 1100, "ML",
         (Dose(24, "60793070010", "4"), Dose(12, "60793070110", "2")),
         ("J020", "A530"), None),
    Drug("J1200", "diphenhydramine HCl, up to 50 mg", 600, "ML",
         (Dose(1, "63323066401", "1"),),
         ("T7840XA", "L500"), 50.0),
    Drug("J0171", "adrenalin (epinephrine), 0.1 mg", 120, "ML",
         (Dose(3, "42023015901", "0.3"),),
         ("T782XXA", "T7840XA"), 0.1),
)  # fmt: skip

# Office E/M codes with an invented charge in cents; 99213 weighted double, as in practice.
EVALUATION_AND_MANAGEMENT: Final[tuple[tuple[str, int], ...]] = (
    ("99212", 9000), ("99213", 12500), ("99213", 12500), ("99214", 16500), ("99215", 23000),
    ("99203", 15000), ("99204", 22500),
)  # fmt: skip
INJECTION_CENTS: Final = 3500
# Non-injection services of the --mix file, with an invented charge in cents: a visit alone,
# a visit with venipuncture and panels drawn in the office, or a visit with plain films.
LABORATORY: Final[tuple[tuple[str, int], ...]] = (
    ("36415", 1000), ("80053", 2400), ("85025", 1800), ("83036", 2000), ("80061", 2600),
)  # fmt: skip
IMAGING: Final[tuple[tuple[str, int], ...]] = (
    ("71046", 6500), ("73030", 5500), ("73562", 6000), ("72100", 7000),
)  # fmt: skip
# Conditions that make the visit a significant, separately identifiable E/M (second HI code).
VISIT_DIAGNOSES: Final = ("I10", "E119", "E785", "J449", "F419", "K219", "M170")

LAST_NAMES: Final = tuple(
    "ALDERWICK BRAMBLEY CORVANE DUNMARSH ELLSWORTHY FENNIMORE GALLOWAYNE HOLLIMAR IVERSTONE"
    " JESSAMY KILBRECK LANTHORNE MORROWAY NETTLEFORD OSWYCK PENDRAKE QUILLBY ROSSMERE STAVELEY"
    " THORNBECK".split()
)
FIRST_NAMES: Final = tuple(
    "ALEX BLAIR CASEY DREW EMERSON FINLEY GRAY HARPER INDIGO JORDAN KENDALL LOGAN MORGAN NOEL"
    " OAKLEY PARKER QUINN REESE".split()
)
STREETS: Final = (
    "EXAMPLE ROAD", "SAMPLE STREET", "PLACEHOLDER LANE", "INVENTED AVENUE", "FICTION COURT",
    "MADEUP WAY",
)  # fmt: skip
PLACES: Final = (
    ("ANYTOWN", "PA", "17101"),
    ("SAMPLEVILLE", "OH", "43004"),
    ("EXAMPLE CITY", "TX", "75001"),
    ("TESTBURG", "NC", "27601"),
)

PAYERS: Final = {
    "MB": ("EXAMPLE MEDICARE PART B", "EXMCR"),
    "MC": ("EXAMPLE STATE MEDICAID", "EXMCD"),
    "CI": ("EXAMPLE COMMERCIAL HEALTH PLAN", "EXCOM"),
}
PAYER_WEIGHTS: Final = (("MB", 45), ("MC", 25), ("CI", 30))

BILLING_PROVIDERS: Final = (
    ("EXAMPLE FAMILY MEDICINE", fake_npi(1), "999999991", "100 SAMPLE PLAZA"),
    ("SAMPLE INTERNAL MEDICINE GROUP", fake_npi(2), "999999992", "200 EXAMPLE BOULEVARD"),
    ("PLACEHOLDER URGENT CARE", fake_npi(3), "999999993", "300 INVENTED PARKWAY"),
)
RENDERING_PROVIDERS: Final = tuple(
    (
        LAST_NAMES[(7 * i) % len(LAST_NAMES)],
        FIRST_NAMES[(5 * i) % len(FIRST_NAMES)],
        fake_npi(100 + i),
        taxonomy,
    )
    for i, taxonomy in enumerate(
        ("207Q00000X", "207R00000X", "208D00000X", "207Q00000X", "261QU0200X", "207R00000X")
    )
)


def service_dates(year: int) -> tuple[str, ...]:
    """Weekday dates of ``year`` as CCYYMMDD, the DTP*472 D8 format."""
    day = dt.date(year, 1, 2)
    dates: list[str] = []
    while day.year == year:
        if day.weekday() < 5:
            dates.append(day.strftime("%Y%m%d"))
        day += dt.timedelta(days=1)
    return tuple(dates)


@dataclass(frozen=True, slots=True)
class Options:
    """What the caller asked for."""

    claims: int
    out: str
    seed: int = 0
    clean: bool = False
    mix: bool = False
    claims_per_transaction: int = MAX_CLAIMS_PER_TRANSACTION
    interchanges: int = 1
    control: int = 1


class ClaimWriter:
    """Builds the 2000B/2000C/2300/2400 segments of one encounter at a time."""

    def __init__(self, rng: random.Random, clean: bool, mix: bool = False) -> None:
        self.rng = rng
        self.clean = clean
        self.mix = mix
        self.dates = service_dates(2025)
        self.payer_codes = [code for code, weight in PAYER_WEIGHTS for _ in range(weight)]

    def _person(self) -> tuple[str, str]:
        return self.rng.choice(LAST_NAMES), self.rng.choice(FIRST_NAMES)

    def _address(self) -> list[str]:
        city, state, zip_code = self.rng.choice(PLACES)
        return [
            f"N3*{self.rng.randint(1, 9999)} {self.rng.choice(STREETS)}",
            f"N4*{city}*{state}*{zip_code}",
        ]

    def _birth_date(self, oldest: int, youngest: int) -> str:
        return (
            f"{self.rng.randint(oldest, youngest)}{self.rng.randint(1, 12):02d}"
            f"{self.rng.randint(1, 28):02d}"
        )

    def claim(self, number: int, first_hl: int, parent_hl: int) -> tuple[list[str], int]:
        """Return the segments of claim ``number`` and the next free HL01."""
        rng = self.rng
        payer = rng.choice(self.payer_codes)
        payer_name, payer_id = PAYERS[payer]
        # Medicare and Medicaid enrol each person under their own id, so the patient is the
        # subscriber; only commercial family coverage puts the patient in a 2000C loop.
        patient_loop = payer == "CI" and rng.random() < SHARE_PATIENT_LOOP_COMMERCIAL
        last, first = self._person()
        member_id = f"TEST{payer}{number:08d}"
        sub_hl = first_hl
        segs = [f"HL*{sub_hl}*{parent_hl}*22*{1 if patient_loop else 0}"]
        group = f"GRP{rng.randint(1000, 9999)}" if payer == "CI" else ""
        relationship = "" if patient_loop else "18"
        segs.append(f"SBR*P*{relationship}*{group}******{payer}")
        segs.append(f"NM1*IL*1*{last}*{first}****MI*{member_id}")
        segs += self._address()
        if payer == "MB":
            segs.append(f"DMG*D8*{self._birth_date(1935, 1959)}*{rng.choice('FM')}")
        else:
            segs.append(f"DMG*D8*{self._birth_date(1950, 2000)}*{rng.choice('FM')}")
        segs.append(f"NM1*PR*2*{payer_name}*****PI*{payer_id}")
        next_hl = sub_hl + 1
        if patient_loop:
            segs.append(f"HL*{next_hl}*{sub_hl}*23*0")
            # PAT01: 19 = child, 01 = spouse (the subscriber's dependants on a family plan).
            child = rng.random() < 0.75
            segs.append(f"PAT*{'19' if child else '01'}")
            segs.append(f"NM1*QC*1*{last}*{rng.choice(FIRST_NAMES)}")
            segs += self._address()
            born = self._birth_date(2008, 2022) if child else self._birth_date(1950, 2000)
            segs.append(f"DMG*D8*{born}*{rng.choice('FM')}")
            next_hl += 1
        # The all-injection file draws no extra random number here, so its output (and the
        # findings tests built on it) stay the same as before --mix existed.
        if self.mix and rng.random() >= SHARE_INJECTION_IN_MIX:
            segs += self._other_encounter(number)
        else:
            segs += self._encounter(number, payer)
        return segs, next_hl

    def _other_encounter(self, number: int) -> list[str]:
        """A claim with no injection or drug line: a visit, maybe with labs or films."""
        rng = self.rng
        dos = rng.choice(self.dates)
        diagnoses = [rng.choice(VISIT_DIAGNOSES)]
        if rng.random() < SHARE_SECOND_DIAGNOSIS:
            second = rng.choice(VISIT_DIAGNOSES)
            if second != diagnoses[0]:
                diagnoses.append(second)
        pointers = "1:2" if len(diagnoses) == 2 else "1"
        code, cents = rng.choice(EVALUATION_AND_MANAGEMENT)
        lines: list[tuple[str, int]] = [(code, cents)]
        kind = rng.randrange(3)
        if kind == 1:
            lines += rng.sample(LABORATORY, rng.randint(1, 3))
        elif kind == 2:
            lines.append(rng.choice(IMAGING))
        rendering_last, rendering_first, rendering_npi, taxonomy = rng.choice(RENDERING_PROVIDERS)
        hi = "*".join([f"ABK:{diagnoses[0]}"] + [f"ABF:{code}" for code in diagnoses[1:]])
        segs = [
            f"CLM*BN{number:08d}*{amount(sum(c for _, c in lines))}***11:B:1*Y*A*Y*Y",
            f"HI*{hi}",
            f"NM1*82*1*{rendering_last}*{rendering_first}****XX*{rendering_npi}",
            f"PRV*PE*PXC*{taxonomy}",
        ]
        for lx, (procedure, charge) in enumerate(lines, start=1):
            segs.append(f"LX*{lx}")
            segs.append(f"SV1*HC:{procedure}*{amount(charge)}*UN*1***{pointers}")
            segs.append(f"DTP*472*D8*{dos}")
        return segs

    def _encounter(self, number: int, payer: str) -> list[str]:
        rng = self.rng
        drug = rng.choice(DRUGS)
        dose = rng.choice(drug.doses)
        dos = rng.choice(self.dates)
        problems = not self.clean
        diagnoses = [rng.choice(drug.diagnoses)]
        with_em = rng.random() >= SHARE_WITHOUT_EM
        if with_em and rng.random() < SHARE_SECOND_DIAGNOSIS:
            diagnoses.append(rng.choice(VISIT_DIAGNOSES))

        # Each line: (SV101 composite, charge in cents, units, diagnosis pointers, 2410 segments)
        lines: list[tuple[str, int, int, str, list[str]]] = []
        if with_em:
            code, cents = rng.choice(EVALUATION_AND_MANAGEMENT)
            pointers = "1:2" if len(diagnoses) == 2 else "1"
            lines.append((f"HC:{code}:25", cents, 1, pointers, []))
        injection = "HC:96372:25" if problems and rng.random() < SHARE_25_ON_96372 else "HC:96372"
        lines.append((injection, INJECTION_CENTS, 1, "1", []))

        # Medicare Part B wants JZ on single-dose drugs when nothing was discarded.
        drug_code = f"HC:{drug.hcpcs}:JZ" if payer == "MB" else f"HC:{drug.hcpcs}"
        ndc, quantity, unit = dose.ndc, dose.ndc_quantity, drug.ctp_unit
        if problems and rng.random() < SHARE_HYPHENATED_NDC:
            ndc = f"{ndc[:5]}-{ndc[5:9]}-{ndc[9:]}"
        if problems and drug.mg_per_unit is not None and rng.random() < SHARE_MG_UNIT:
            quantity = amount(round(dose.units * drug.mg_per_unit * 100))
            unit = "MG"
        drug_loop = [f"LIN**N4*{ndc}", f"CTP****{quantity}*{unit}"]
        if problems and rng.random() < SHARE_MISSING_NDC:
            drug_loop = []
        lines.append((drug_code, drug.cents_per_unit * dose.units, dose.units, "1", drug_loop))

        rendering_last, rendering_first, rendering_npi, taxonomy = rng.choice(RENDERING_PROVIDERS)
        total = sum(line[1] for line in lines)
        hi = "*".join([f"ABK:{diagnoses[0]}"] + [f"ABF:{code}" for code in diagnoses[1:]])
        segs = [
            f"CLM*BN{number:08d}*{amount(total)}***11:B:1*Y*A*Y*Y",
            f"HI*{hi}",
            f"NM1*82*1*{rendering_last}*{rendering_first}****XX*{rendering_npi}",
            f"PRV*PE*PXC*{taxonomy}",
        ]
        for lx, (procedure, cents, units, pointers, drug_segments) in enumerate(lines, start=1):
            segs.append(f"LX*{lx}")
            segs.append(f"SV1*{procedure}*{amount(cents)}*UN*{units}***{pointers}")
            segs.append(f"DTP*472*D8*{dos}")
            segs += drug_segments
        return segs


def transaction_sizes(claims: int, per_transaction: int) -> Iterator[int]:
    """Yield the claim count of each transaction set."""
    remaining = claims
    while remaining > 0:
        size = min(per_transaction, remaining)
        yield size
        remaining -= size


def interchange_sizes(claims: int, interchanges: int) -> list[int]:
    """The claim count of each interchange: as even as possible, none empty."""
    share, extra = divmod(claims, interchanges)
    return [share + (1 if i < extra else 0) for i in range(interchanges)]


def isa_segment(control: int) -> str:
    """Return the fixed-width ISA (106 characters with its terminator)."""
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SUBMITTER_ID:<15}*ZZ*{RECEIVER_ID:<15}"
        f"*{CREATED:%y%m%d}*{CREATED:%H%M}*^*00501*{control:09d}*0*T*:~"
    )
    if len(isa) != 106:
        raise AssertionError(f"ISA is {len(isa)} characters, not 106")
    return isa


def write_interchange(out: TextIO, options: Options) -> int:
    """Write the interchanges to ``out`` and return the number of segments written.

    With ``--interchanges K`` the claims are shared out over K interchanges (each one
    functional group) with consecutive ISA13/GS06 from ``--control``, as a clearinghouse's
    concatenated drop file holds them.
    """
    rng = random.Random(options.seed)
    writer = ClaimWriter(rng, options.clean, options.mix)
    written = 0
    claim_number = 0
    for offset, size in enumerate(interchange_sizes(options.claims, options.interchanges)):
        written += _write_one(out, options, writer, options.control + offset, size, claim_number)
        claim_number += size
    return written


def _write_one(
    out: TextIO, options: Options, writer: ClaimWriter, control: int, claims: int, first: int
) -> int:
    out.write(isa_segment(control) + TERMINATOR[1:])
    out.write(
        f"GS*HC*{SUBMITTER_ID}*{RECEIVER_ID}*{CREATED:%Y%m%d}*{CREATED:%H%M}"
        f"*{control}*X*005010X222A1{TERMINATOR}"
    )
    written = 2
    claim_number = first
    transactions = 0
    for transactions, size in enumerate(
        transaction_sizes(claims, options.claims_per_transaction), start=1
    ):
        st02 = f"{transactions:04d}"
        name, npi, tax_id, street = BILLING_PROVIDERS[(transactions - 1) % len(BILLING_PROVIDERS)]
        header = [
            f"ST*837*{st02}*005010X222A1",
            f"BHT*0019*00*BENCH{st02}*{CREATED:%Y%m%d}*{CREATED:%H%M}*CH",
            f"NM1*41*2*EXAMPLE BILLING SERVICE*****46*{SUBMITTER_ID}",
            "PER*IC*SAMPLE CONTACT*TE*5555550100",
            f"NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*{RECEIVER_ID}",
            "HL*1**20*1",
            f"NM1*85*2*{name}*****XX*{npi}",
            f"N3*{street}",
            "N4*ANYTOWN*PA*171010001",
            f"REF*EI*{tax_id}",
        ]
        out.write(TERMINATOR.join(header) + TERMINATOR)
        in_transaction = len(header)
        hl = 2
        for _ in range(size):
            claim_number += 1
            segs, hl = writer.claim(claim_number, hl, 1)
            out.write(TERMINATOR.join(segs) + TERMINATOR)
            in_transaction += len(segs)
        # SE01 counts every segment from ST to SE inclusive.
        out.write(f"SE*{in_transaction + 1}*{st02}{TERMINATOR}")
        written += in_transaction + 1
    out.write(f"GE*{transactions}*{control}{TERMINATOR}IEA*1*{control:09d}{TERMINATOR}")
    return written + 2


def parse_args(argv: Sequence[str] | None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--claims", type=int, required=True, help="number of claims (>= 1)")
    parser.add_argument("--out", type=str, required=True, help="output path, or - for stdout")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--clean",
        action="store_true",
        help="no deliberate problems (missing/hyphenated NDC, MG unit, 25 on 96372)",
    )
    parser.add_argument(
        "--mix",
        action="store_true",
        help="one claim in ten an injection, the rest office visits, labs and imaging",
    )
    parser.add_argument(
        "--claims-per-transaction",
        type=int,
        default=MAX_CLAIMS_PER_TRANSACTION,
        help=f"claims per ST/SE, 1..{MAX_CLAIMS_PER_TRANSACTION} (default "
        f"{MAX_CLAIMS_PER_TRANSACTION})",
    )
    parser.add_argument(
        "--interchanges",
        type=int,
        default=1,
        help="interchanges (ISA/IEA) to share the claims among (default 1)",
    )
    parser.add_argument(
        "--control",
        type=int,
        default=1,
        help="ISA13 and GS06 of the first interchange (default 1); files meant to be "
        "processed together need different ones, or they are duplicates of each other",
    )
    args = parser.parse_args(argv)
    if args.claims < 1:
        parser.error("--claims must be at least 1")
    if not 1 <= args.claims_per_transaction <= MAX_CLAIMS_PER_TRANSACTION:
        parser.error(f"--claims-per-transaction must be 1..{MAX_CLAIMS_PER_TRANSACTION}")
    if not 1 <= args.interchanges <= args.claims:
        parser.error("--interchanges must be 1..--claims")
    if not 1 <= args.control + args.interchanges - 1 <= 999_999_999:
        parser.error("--control must leave room for a 9-digit ISA13 per interchange")
    return Options(
        args.claims,
        args.out,
        args.seed,
        args.clean,
        mix=args.mix,
        claims_per_transaction=args.claims_per_transaction,
        interchanges=args.interchanges,
        control=args.control,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: generate the file named by ``--out``."""
    options = parse_args(argv)
    if options.out == "-":
        segments = write_interchange(sys.stdout, options)
    else:
        # newline="" keeps the "~\n" terminator byte-exact on every platform.
        with Path(options.out).open("w", encoding="ascii", newline="", buffering=1 << 20) as out:
            segments = write_interchange(out, options)
    sizes = interchange_sizes(options.claims, options.interchanges)
    transactions = sum(-(-n // options.claims_per_transaction) for n in sizes)
    print(
        f"{options.out}: {options.claims} claims in {options.interchanges} interchange(s), "
        f"{transactions} transaction set(s), "
        f"{segments} segments",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
