"""Finding official reference files in a folder and opening them as text.

CMS and FDA publish their files as zip archives holding text, CSV and Excel members; users may
unzip them or drop the archives as downloaded. This module lists both plain files and zip
members under one folder as :class:`Source` objects and opens them as text. The published files
are Latin-1 / Windows-1252; a UTF-8 byte-order mark switches to UTF-8, and the five bytes that
cp1252 leaves undefined are read as Latin-1 so one stray byte never stops a 600,000-row load.
"""

from __future__ import annotations

import codecs
import io
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO

_ERRORS = "edi837-refdata-latin1"


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) as Latin-1."""
    if isinstance(error, UnicodeDecodeError):
        return error.object[error.start : error.end].decode("latin-1"), error.end
    raise error


codecs.register_error(_ERRORS, _latin1_fallback)


@dataclass(frozen=True, slots=True)
class Source:
    """One candidate file: a plain file, or a member of a zip archive.

    Attributes:
        path: The file on disk (the archive for a zip member).
        member: Member name inside the archive, or None for a plain file.
        modified: Date the file (or member) was last written.
    """

    path: Path
    member: str | None
    modified: date

    @property
    def name(self) -> str:
        """Base name of the file or member, as the publisher named it."""
        return Path(self.member).name if self.member else self.path.name

    @property
    def location(self) -> str:
        """``path`` or ``archive.zip!member`` for messages."""
        return f"{self.path}!{self.member}" if self.member else str(self.path)


def discover(folder: Path) -> list[Source]:
    """List every file under ``folder`` (recursively) and every member of its zip archives.

    Hidden files and folders (names starting with ``.``) are skipped. Zip archives that cannot
    be read are skipped too; their contents simply count as absent.

    Args:
        folder: Folder holding the downloaded reference files.

    Returns:
        The sources, in a stable (sorted) order.
    """
    sources: list[Source] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for file_name in sorted(files):
            if file_name.startswith("."):
                continue
            path = Path(root) / file_name
            modified = datetime.fromtimestamp(path.stat().st_mtime).date()
            sources.append(Source(path, None, modified))
            if file_name.lower().endswith(".zip"):
                sources.extend(_zip_members(path))
    return sources


def _zip_members(path: Path) -> list[Source]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                Source(path, info.filename, date(*info.date_time[:3]))
                for info in archive.infolist()
                if not info.is_dir() and not Path(info.filename).name.startswith(".")
            ]
    except (zipfile.BadZipFile, OSError):
        return []
    return sorted(members, key=lambda source: source.member or "")


@contextmanager
def open_binary(source: Source) -> Iterator[IO[bytes]]:
    """Open a source for reading bytes."""
    if source.member is None:
        with source.path.open("rb") as handle:
            yield handle
        return
    with zipfile.ZipFile(source.path) as archive, archive.open(source.member) as handle:
        yield handle


def _has_utf8_bom(source: Source) -> bool:
    with open_binary(source) as raw:
        return raw.read(3) == codecs.BOM_UTF8


@contextmanager
def open_text(source: Source) -> Iterator[IO[str]]:
    """Open a source as text: cp1252 (Latin-1 for undefined bytes), or UTF-8 after a BOM.

    Line endings are passed through untranslated (``newline=""``) so the csv module can keep
    quoted line breaks such as the MUE file's two-line header cell.
    """
    if _has_utf8_bom(source):
        encoding, errors = "utf-8-sig", "strict"
    else:
        encoding, errors = "cp1252", _ERRORS
    with open_binary(source) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")
        try:
            yield text
        finally:
            text.detach()
