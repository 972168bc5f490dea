"""Where a report is written: a text stream, or a binary file written as UTF-8 as it goes.

Every report writer takes either kind of target. A binary target (the file of
:func:`~edi837.x12.writer.atomic_output`, ``sys.stdout.buffer``) is wrapped for the writer's
duration and detached afterwards, so the caller keeps its handle, and the text goes to the file
in buffer-sized pieces while the run streams: no report is built in memory first.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import BinaryIO, TextIO, cast


def _is_binary(out: object) -> bool:
    """True for a byte stream (a file opened ``wb``, ``BytesIO``, ``sys.stdout.buffer``)."""
    return isinstance(out, io.RawIOBase | io.BufferedIOBase) or getattr(out, "mode", "").endswith(
        "b"
    )


@contextlib.contextmanager
def text_target(out: TextIO | BinaryIO) -> Iterator[TextIO]:
    """``out`` as a text stream (UTF-8, line breaks as written) for the duration of a report."""
    if isinstance(out, io.TextIOBase) or not _is_binary(out):
        yield cast(TextIO, out)
        return
    wrapper = io.TextIOWrapper(cast(BinaryIO, out), encoding="utf-8", newline="")
    try:
        yield wrapper
        wrapper.flush()
    finally:
        wrapper.detach()
