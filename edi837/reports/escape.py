r"""Display escaping: control characters from a claim file shown as visible ``\xNN`` escapes.

An element value, a file name or an error message can hold bytes that a terminal obeys: ESC
and OSC sequences that move the cursor, rewrite the title or hide text, a CR or LF that starts
a new line and forges a report or error line, DEL and the C1 controls (which Latin-1 decoding
turns single bytes 0x80-0x9F into). Every human-readable output passes its data through
:func:`escape_text` so that such a character is seen, never executed. Bidirectional overrides
(U+202A-U+202E, U+2066-U+2069) are escaped too: they reorder what is shown.

The escape is Python's own spelling (``\x1b``, ``\u202e``), so a person can tell the byte.
A backslash already in the data is left as it is: X12 allows it as a character, and some
files use it as a separator.
"""

from __future__ import annotations

import re

_CONTROLS = "\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_CONTROL = re.compile(f"[{_CONTROLS}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_text(text: str, keep: str = "") -> str:
    r"""``text`` with every control character written as a visible escape.

    Args:
        text: data to show (an element value, a segment, a file name, a whole message line).
        keep: control characters to leave as they are, for outputs where they are harmless
            layout (``"\n"`` in an HTML text node); never for a terminal line.
    """
    if keep:
        return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _visible(m), text)
    return _CONTROL.sub(_visible, text)


def has_controls(text: str) -> bool:
    """True when ``text`` holds a character :func:`escape_text` would escape."""
    return _CONTROL.search(text) is not None


def escaped_column(text: str, column: int, width: int) -> tuple[int, int]:
    """Where ``text[column:column + width]`` sits once ``text`` is escaped (column, width).

    Keeps a caret under the right element when characters before or inside it grew into
    escapes.
    """
    start = len(escape_text(text[:column]))
    return start, max(len(escape_text(text[column : column + width])), 1)
