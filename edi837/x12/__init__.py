"""Generic X12: delimiters and encodings, the streaming tokenizer, segments, the writer.

This package knows nothing of the 837P guide; envelope checks (ISA/GS/ST and their trailers)
live in :mod:`edi837.x12.envelope`.
"""

from edi837.x12.reader import SegmentReader, X12SyntaxError, open_source, read_segments
from edi837.x12.segment import Delimiters, ElementRef, Segment, parse_ref
from edi837.x12.writer import SegmentWriter, atomic_output

__all__ = [
    "Delimiters",
    "ElementRef",
    "Segment",
    "SegmentReader",
    "SegmentWriter",
    "X12SyntaxError",
    "atomic_output",
    "open_source",
    "parse_ref",
    "read_segments",
]
