"""Hostile 837 inputs for the fuzz suite: seed files and the mutations applied to them.

The seeds are the sample files and the test fixtures, all well-formed interchanges. A mutant
is a seed with one to three mutations applied in turn, each the kind of damage a careless
upstream system or an attacker produces: flipped bytes, deleted or duplicated segments, a
cut at any byte, swapped delimiters, numbers no X12 decimal can hold (4,301 digits, ``NaN``,
``1E1000000``), control bytes in element values, UTF-16 re-encodings of odd length, an
unterminated last segment, envelopes out of order, a newline in ST02, a quote or CR in
CLM01. Every mutant carries a description of what was done to it, so that a failing example
names its input kind.

How many examples each property runs is :func:`budget`: the CI default, multiplied by the
``EDI837_FUZZ`` environment variable (``make fuzz`` sets it to 20).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = sorted(
    [*ROOT.glob("samples/*.837"), *ROOT.glob("tests/fixtures/**/*.837")]
    + list(ROOT.glob("tests/fixtures/**/*.x12"))
)

#: How much longer than the CI default a run is (``make fuzz``: 20).
SCALE = max(1, int(os.environ.get("EDI837_FUZZ", "1") or "1"))


def budget(examples: int) -> int:
    """The number of examples a property runs: its CI default times :data:`SCALE`."""
    return examples * SCALE


@dataclass(frozen=True)
class Layout:
    """The delimiters of a seed, as its ISA segment declares them (one byte each)."""

    element: bytes
    component: bytes
    segment: bytes
    repetition: bytes


def layout_of(data: bytes) -> Layout:
    """The delimiters of a well-formed interchange: ISA is fixed-width, 106 bytes."""
    start = data.index(b"ISA")
    isa = data[start : start + 106]
    return Layout(isa[3:4], isa[104:105], isa[105:106], isa[82:83])


@dataclass(frozen=True)
class Mutant:
    """A mutated seed: its bytes and what was done to it (for the failure report)."""

    data: bytes
    story: str

    def __repr__(self) -> str:
        return f"Mutant({self.story}, {len(self.data)} bytes)"


@functools.cache
def seeds() -> list[tuple[str, bytes]]:
    """Every seed file as (name relative to the repository, bytes)."""
    return [(str(p.relative_to(ROOT)), p.read_bytes()) for p in SEED_FILES]


# -- segments of a (possibly damaged) file ---------------------------------------------------


def chunks(data: bytes, lay: Layout) -> list[bytes]:
    """The file cut after every terminator: each chunk is lead, text and terminator.

    Joining the chunks gives the file back, whatever damage it has.
    """
    parts = data.split(lay.segment)
    out = [part + lay.segment for part in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def chunk_id(chunk: bytes, lay: Layout) -> bytes:
    """The segment id of a chunk (its text up to the first element separator)."""
    return chunk.strip().split(lay.element, 1)[0]


def split_chunk(chunk: bytes, lay: Layout) -> tuple[bytes, list[bytes], bytes]:
    """A chunk as (lead white space, elements, terminator and what follows it)."""
    body = chunk[: -len(lay.segment)] if chunk.endswith(lay.segment) else chunk
    tail = chunk[len(body) :]
    stripped = body.lstrip()
    lead = body[: len(body) - len(stripped)]
    return lead, stripped.split(lay.element), tail


def join_chunk(lead: bytes, elements: list[bytes], tail: bytes, lay: Layout) -> bytes:
    """The inverse of :func:`split_chunk`."""
    return lead + lay.element.join(elements) + tail


# -- values no element should ever hold --------------------------------------------------------

#: Numbers X12 has no room for: Python's int() limit, decimal overflow, non-decimals.
HOSTILE_NUMBERS = [
    b"9" * 4301,
    b"1" + b"0" * 4300,
    b"-" + b"9" * 4301,
    b"0." + b"0" * 4300 + b"1",
    b"NaN",
    b"nan",
    b"sNaN",
    b"-NaN",
    b"Infinity",
    b"-Infinity",
    b"inf",
    b"1E1000000",
    b"1e-1000000",
    b"9E+999999999",
    b"0E-1000000",
    b"1_000",
    b"0x1F",
    b" 12",
    b"+5",
    b"--1",
    b"1.",
    b".",
    b"-",
    b"4.5E3",
    b"99999999999999999999999999999999.99",
    "\u0663".encode(),  # ARABIC-INDIC DIGIT THREE: int() accepts it, X12 does not
    "\uff11\uff12".encode(),  # FULLWIDTH 1 2
]

#: Control bytes a terminal or a line-oriented reader acts on.
CONTROL_BYTES = [
    b"\x1b",
    b"\x1b]0;owned\x07",
    b"\x1b[2J",
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n",
    b"\x08",
    b"\x7f",
    b"\x9b",
]

#: What a spreadsheet would run, or a CSV reader would take for a new row.
CELL_ATTACKS = [
    b'=HYPERLINK("http://x.example","y")',
    b"+1+2",
    b"-1+2",
    b"@SUM(A1)",
    b"\tTAB",
    b"\rCR",
    b'A"B',
    b"A\rB",
    b"A\r\nB",
    b"A,B",
    b'",=1+1,"',
]

#: (segment id, element position) of the numbers the reader and builder convert.
NUMERIC_ELEMENTS = [
    (b"HL", 1),
    (b"HL", 2),
    (b"HL", 4),
    (b"LX", 1),
    (b"SV1", 2),
    (b"SV1", 4),
    (b"SV1", 7),
    (b"CLM", 2),
    (b"CTP", 4),
    (b"SE", 1),
    (b"GE", 1),
    (b"GE", 2),
    (b"GS", 6),
    (b"IEA", 1),
    (b"IEA", 2),
    (b"ST", 2),
    (b"BHT", 4),
    (b"DTP", 3),
    (b"DMG", 2),
    (b"AMT", 2),
]


# -- mutations ---------------------------------------------------------------------------------
#
# Each mutation draws its own choices and returns the new bytes with a few words on what it
# did. They work on damaged input too: a later mutation finds segments by the seed's
# delimiters, whatever an earlier one did.

Draw = st.DrawFn


def flip_bytes(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    if not data:
        return data, "flip nothing"
    buf = bytearray(data)
    count = draw(st.integers(1, 4))
    for _ in range(count):
        at = draw(st.integers(0, len(buf) - 1))
        buf[at] = draw(st.integers(0, 255))
    return bytes(buf), f"{count} bytes flipped"


def delete_segment(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    parts = chunks(data, lay)
    if not parts:
        return data, "delete nothing"
    at = draw(st.integers(0, len(parts) - 1))
    gone = chunk_id(parts[at], lay)
    return b"".join(parts[:at] + parts[at + 1 :]), f"segment {at + 1} ({gone!r}) deleted"


def duplicate_segment(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    parts = chunks(data, lay)
    if not parts:
        return data, "duplicate nothing"
    at = draw(st.integers(0, len(parts) - 1))
    times = draw(st.sampled_from([1, 1, 2, 60, 400]))
    where = draw(st.integers(0, len(parts)))
    copied = [parts[at]] * times
    dup = parts[:where] + copied + parts[where:]
    return b"".join(dup), f"segment {at + 1} ({chunk_id(parts[at], lay)!r}) x{times} at {where}"


def truncate(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    at = draw(st.integers(0, len(data)))
    return data[:at], f"cut at byte {at}"


def swap_delimiters(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    pairs = [
        (lay.element, lay.segment),
        (lay.element, lay.component),
        (lay.component, lay.segment),
        (lay.repetition, lay.component),
        (lay.segment, b"\n"),
        (lay.element, b"|"),
    ]
    a, b = draw(st.sampled_from(pairs))
    whole = draw(st.booleans())
    if whole:
        swapped = data.replace(a, b"\x00").replace(b, a).replace(b"\x00", b)
        return swapped, f"delimiters {a!r} and {b!r} swapped everywhere"
    parts = chunks(data, lay)
    if not parts:
        return data, "swap nothing"
    at = draw(st.integers(0, len(parts) - 1))
    part = parts[at]
    parts[at] = part.replace(a, b"\x00").replace(b, a).replace(b"\x00", b)
    return b"".join(parts), f"delimiters {a!r} and {b!r} swapped in segment {at + 1}"


def _set_element(
    draw: Draw, data: bytes, lay: Layout, targets: list[tuple[bytes, int]], value: bytes
) -> tuple[bytes, str]:
    parts = chunks(data, lay)
    places = [
        (i, pos)
        for i, part in enumerate(parts)
        for sid, pos in targets
        if chunk_id(part, lay) == sid
    ]
    if not places:
        return data, "no element to set"
    i, pos = draw(st.sampled_from(places))
    lead, elements, tail = split_chunk(parts[i], lay)
    elements += [b""] * (pos + 1 - len(elements))
    elements[pos] = value
    parts[i] = join_chunk(lead, elements, tail, lay)
    return b"".join(parts), f"{elements[0].decode('latin-1')}{pos:02d} = {value[:24]!r}"


def hostile_number(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    value = draw(st.sampled_from(HOSTILE_NUMBERS))
    return _set_element(draw, data, lay, NUMERIC_ELEMENTS, value)


def control_bytes(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    parts = chunks(data, lay)
    if not parts:
        return data, "no segment"
    at = draw(st.integers(0, len(parts) - 1))
    lead, elements, tail = split_chunk(parts[at], lay)
    pos = draw(st.integers(1, max(1, len(elements) - 1)))
    elements += [b""] * (pos + 1 - len(elements))
    control = draw(st.sampled_from(CONTROL_BYTES))
    cut = draw(st.integers(0, len(elements[pos])))
    elements[pos] = elements[pos][:cut] + control + elements[pos][cut:]
    parts[at] = join_chunk(lead, elements, tail, lay)
    return b"".join(parts), f"{control!r} in element {pos} of segment {at + 1}"


def clm01_attack(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    value = draw(st.sampled_from(CELL_ATTACKS))
    targets = [(b"CLM", 1), (b"NM1", 3), (b"REF", 2), (b"LIN", 3), (b"SV1", 1)]
    return _set_element(draw, data, lay, targets, value)


def newline_in_st02(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    forged = draw(st.sampled_from([b"00\n01", b"0001\nedi837: forged", b"\r0001", b"0\x1b[2J1"]))
    return _set_element(draw, data, lay, [(b"ST", 2), (b"SE", 2)], forged)


def reencode(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"]))
    text = data.decode("latin-1").encode(codec)
    odd = codec.startswith("utf-16") and draw(st.booleans())
    if odd:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + b"\x00" + text[at:] if draw(st.booleans()) else text[:-1]
    return text, f"re-encoded as {codec}{' of odd length' if odd else ''}"


def unterminated_end(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    body = data.rstrip()
    if body.endswith(lay.segment):
        body = body[: -len(lay.segment)]
    # Past 1 MB the reader's segment-size limit applies: bad input, never memory growth.
    extra = draw(st.sampled_from([0, 0, 2000, 70000, 1_100_000]))
    return body + b"X" * extra, f"last segment unterminated (+{extra} bytes)"


def stray_envelope(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    parts = chunks(data, lay)
    ids = [chunk_id(p, lay) for p in parts]
    moves = ["GE first", "GS first", "ISA again", "IEA early", "GE after IEA", "ST before GS"]
    move = draw(st.sampled_from(moves))

    def first(sid: bytes) -> int | None:
        return ids.index(sid) if sid in ids else None

    ge, gs, isa, iea, st_ = first(b"GE"), first(b"GS"), first(b"ISA"), first(b"IEA"), first(b"ST")
    if move == "GE first" and ge is not None:
        parts.insert(0, parts.pop(ge))
    elif move == "GS first" and gs is not None:
        parts.insert(0, parts.pop(gs))
    elif move == "ISA again" and isa is not None:
        parts.insert(draw(st.integers(isa + 1, len(parts))), parts[isa])
    elif move == "IEA early" and iea is not None:
        parts.insert(draw(st.integers(0, iea)), parts.pop(iea))
    elif move == "GE after IEA" and ge is not None:
        parts.append(parts.pop(ge))
    elif move == "ST before GS" and st_ is not None and gs is not None:
        parts.insert(gs, parts.pop(st_))
    return b"".join(parts), move


def wide_segment(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    """Element position 1000 and beyond, the last one holding a component separator."""
    parts = chunks(data, lay)
    if not parts:
        return data, "no segment"
    at = draw(st.integers(0, len(parts) - 1))
    lead, elements, tail = split_chunk(parts[at], lay)
    width = draw(st.sampled_from([999, 1000, 1001, 1500]))
    elements += [b""] * (width - len(elements)) + [b"A" + lay.component + b"B" + lay.repetition]
    parts[at] = join_chunk(lead, elements, tail, lay)
    return b"".join(parts), f"segment {at + 1} widened to {width + 1} elements"


def many_lines(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    """A claim's service-line block (LX to the next LX, CLM, HL or SE) repeated."""
    parts = chunks(data, lay)
    ids = [chunk_id(p, lay) for p in parts]
    starts = [i for i, sid in enumerate(ids) if sid == b"LX"]
    if not starts:
        return data, "no service line"
    start = draw(st.sampled_from(starts))
    end = start + 1
    while end < len(parts) and ids[end] not in (b"LX", b"CLM", b"HL", b"SE", b"GE", b"IEA"):
        end += 1
    times = draw(st.sampled_from([2, 51, 120]))
    block = parts[start:end]
    return b"".join(parts[:end] + block * (times - 1) + parts[end:]), f"service line x{times}"


def splice(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    """Another seed's interchange appended (two interchanges, maybe different delimiters)."""
    name, other = draw(st.sampled_from(seeds()))
    return data + other, f"{name} appended"


def exotic_delimiters(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    """Every element separator (or terminator) replaced by a byte real files rarely use."""
    old = draw(st.sampled_from([lay.element, lay.segment, lay.component]))
    new = draw(
        st.sampled_from([b"\x1d", b"\x1c", b"\x07", b"A", b" ", b"\xe9", b"\n", b"\r", b"|"])
    )
    return data.replace(old, new), f"delimiter {old!r} replaced by {new!r}"


def line_breaks(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    """The breaks after terminators changed: CRLF, bare CR, none, or several."""
    new = draw(st.sampled_from([b"", b"\r\n", b"\r", b"\n\n", b"  \n\t"]))
    body = data.replace(lay.segment + b"\r\n", lay.segment).replace(
        lay.segment + b"\n", lay.segment
    )
    return body.replace(lay.segment, lay.segment + new), f"line breaks {new!r}"


def utf8_bom(draw: Draw, data: bytes, lay: Layout) -> tuple[bytes, str]:
    return b"\xef\xbb\xbf" + data, "UTF-8 BOM added"


MUTATIONS = [
    flip_bytes,
    delete_segment,
    duplicate_segment,
    truncate,
    swap_delimiters,
    hostile_number,
    control_bytes,
    clm01_attack,
    newline_in_st02,
    reencode,
    unterminated_end,
    stray_envelope,
    wide_segment,
    many_lines,
    splice,
    utf8_bom,
    exotic_delimiters,
    line_breaks,
]


@st.composite
def mutants(draw: Draw, max_mutations: int = 3) -> Mutant:
    """A seed with one to ``max_mutations`` mutations applied in turn."""
    name, data = draw(st.sampled_from(seeds()), label="seed")
    lay = layout_of(data)
    story = [name]
    for _ in range(draw(st.integers(1, max_mutations), label="mutations")):
        mutation = draw(st.sampled_from(MUTATIONS), label="kind")
        data, what = mutation(draw, data, lay)
        story.append(what)
    return Mutant(data, "; ".join(story))
