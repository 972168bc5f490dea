"""Keeping a folder of official CMS/FDA files current: download or import, verify, install.

The folder holds one sub-folder per table and edition (``DIR/mue/2026-07-01/``) and
``DIR/manifest.json`` saying where each edition came from (URL, date fetched, SHA-256, edition,
rows loaded) and which licences were accepted. A new edition is unpacked into a hidden staging
folder and loaded with the same loader the checks use; only when it loads, holds rows, and its
row count stays within :data:`ROW_BOUND` of the previous edition's does it replace the previous
one, by renames inside the folder, and the manifest is rewritten atomically. Anything that goes
wrong (HTTP error, truncated download, changed layout) leaves the previous edition and the
manifest as they were and is reported in one line. Hidden folders are invisible to
:func:`edi837.refdata.load_reference`, so a half-finished update is never loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from .fetch import Fetched, FetchError, Progress, download, get_page
from .model import ReferenceDataError, TableInfo
from .published import AMA_LICENSE_PAGE, BY_NAME, PUBLICATIONS, Publication, newest_links
from .reference import load_reference

MANIFEST = "manifest.json"
#: Largest change in row count accepted without ``force``: a file cut short or a different
#: table under the same name shows up as a collapse (or explosion) of rows.
ROW_BOUND = 0.5
_PERIOD = re.compile(r"\d{4}-Q[1-4]|\d{4}-\d{2}-\d{2}")
_VERSION = re.compile(r"v\d+r\d+")

Status = Literal["installed", "unchanged", "failed", "needs-license", "refused"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one table.

    Attributes:
        name: Table name (``mue``), or the file for an import that matched no table.
        status: ``installed``, ``unchanged``, ``failed``, ``needs-license`` or ``refused``
            (row count out of bounds).
        message: One line for the user.
        edition: The edition now installed (new or kept), when there is one.
        rows: Rows loaded from the new edition.
    """

    name: str
    status: Status
    message: str
    edition: str | None = None
    rows: int | None = None

    @property
    def ok(self) -> bool:
        """True when the table is installed or was already current."""
        return self.status in ("installed", "unchanged")


@dataclass(frozen=True, slots=True)
class _File:
    """One downloaded or imported file of an edition."""

    url: str
    path: Path
    sha256: str


class _Failed(Exception):
    """One table's update stops here; the message is the reason."""

    def __init__(self, message: str, status: Status = "failed") -> None:
        super().__init__(message)
        self.status: Status = status


# -- the manifest ------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest (an empty one when there is none or it cannot be read)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"format": 1, "licenses": {}, "tables": {}}
    if not isinstance(data, dict):
        return {"format": 1, "licenses": {}, "tables": {}}
    data.setdefault("licenses", {})
    data.setdefault("tables", {})
    return data


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Write the manifest atomically: a temporary file, fsync, then a rename over the old one."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{MANIFEST}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / MANIFEST)
    if hasattr(os, "O_DIRECTORY"):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# -- licences ----------------------------------------------------------------------------------


def _licence_message(publication: Publication) -> str:
    return (
        f"{publication.name}: the NCCI files carry CPT codes under the {publication.license} "
        f"licence ({AMA_LICENSE_PAGE}); read it, then run again with --accept-license "
        "(asked once, then recorded in manifest.json)"
    )


def _licences_ok(
    folder: Path,
    manifest: dict[str, Any],
    publications: Iterable[Publication],
    accept: bool,
) -> set[str]:
    """Licences accepted now or earlier; a new acceptance is written to the manifest at once."""
    accepted = set(manifest["licenses"])
    needed = {p.license for p in publications if p.license}
    if accept and needed - accepted:
        for licence in sorted(needed - accepted):
            manifest["licenses"][licence] = {"accepted": _now(), "page": AMA_LICENSE_PAGE}
        write_manifest(folder, manifest)
        accepted |= needed
    return accepted


# -- installing one edition --------------------------------------------------------------------


def _unpack(publication: Publication, files: Sequence[_File], staging: Path) -> None:
    """Put the table's files of each download into ``staging``: zip members and plain files.

    Only the members that hold the table are kept (the NCCI zips also carry an Excel copy
    several times the size of the text file); members are flattened to their names.
    """
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    seen: list[str] = []
    for item in files:
        if zipfile.is_zipfile(item.path):
            try:
                with zipfile.ZipFile(item.path) as archive:
                    for info in archive.infolist():
                        name = Path(info.filename).name
                        if info.is_dir() or not name or "__MACOSX" in info.filename:
                            continue
                        seen.append(name)
                        if name.startswith(".") or not publication.member.search(name):
                            continue
                        with archive.open(info) as source, (staging / name).open("wb") as out:
                            shutil.copyfileobj(source, out)
                        # Keep the publisher's date: the FDA directory's edition is its file date.
                        stamp = datetime(*info.date_time).timestamp()
                        os.utime(staging / name, (stamp, stamp))
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise _Failed(f"{item.path.name}: damaged zip archive ({exc})") from None
        elif item.path.suffix.lower() == ".zip":
            raise _Failed(f"{item.path.name}: not a complete zip archive (truncated download?)")
        else:
            seen.append(item.path.name)
            if publication.member.search(item.path.name):
                shutil.copyfile(item.path, staging / item.path.name)
    if not any(staging.iterdir()):
        found = ", ".join(sorted(seen)[:4]) or "nothing"
        raise _Failed(
            f"no file matching {publication.member.pattern} in the download "
            f"(it holds {found}); has the layout changed?"
        )


def edition_of(name: str, infos: Sequence[TableInfo], fallback: date) -> str:
    """Edition name of a loaded table: its quarter or effective date (NCCI: plus version)."""
    as_of = infos[0].as_of if infos else ""
    period = _PERIOD.search(as_of)
    edition = period.group(0) if period else f"fetched-{fallback.isoformat()}"
    version = _VERSION.search(as_of)
    if name == "ncci-ptp" and version:
        edition += f"-{version.group(0)}"
    return edition


def _verify(publication: Publication, staging: Path, today: date) -> tuple[str, int]:
    """Load the staged files with the table's loader: (edition, rows), or :class:`_Failed`."""
    try:
        reference = load_reference(staging)
    except ReferenceDataError as exc:
        raise _Failed(f"not in the published layout: {Path(exc.path).name}: {exc.reason}") from None
    except (OSError, ValueError) as exc:
        raise _Failed(f"could not be read: {exc}") from None
    infos = [info for info in reference.tables if info.name == publication.name]
    if not infos:
        found = ", ".join(sorted(p.name for p in staging.iterdir())[:4])
        raise _Failed(f"{found}: not loaded as {publication.name}; has the layout changed?")
    rows = sum(info.rows for info in infos)
    if rows == 0:
        raise _Failed("the new file has no data rows")
    return edition_of(publication.name, infos, today), rows


def _install(
    folder: Path,
    manifest: dict[str, Any],
    publication: Publication,
    files: Sequence[_File],
    *,
    force: bool,
    today: date,
) -> Outcome:
    """Verify the files of one edition and, when they load, make them the table's edition."""
    name = publication.name
    staging = folder / ".staging" / name
    previous = manifest["tables"].get(name) or {}
    try:
        _unpack(publication, files, staging)
        edition, rows = _verify(publication, staging, today)
        before = previous.get("rows")
        if isinstance(before, int) and before > 0 and not force:
            change = (rows - before) / before
            if abs(change) > ROW_BOUND:
                raise _Failed(
                    f"new edition {edition} has {rows:,} rows against {before:,} "
                    f"({change:+.0%}, more than ±{ROW_BOUND:.0%}); refused, "
                    "run again with --force if the change is expected",
                    "refused",
                )
        table_dir = folder / name
        table_dir.mkdir(parents=True, exist_ok=True)
        incoming = table_dir / f".incoming-{edition}"
        if incoming.exists():
            shutil.rmtree(incoming)
        staging.rename(incoming)
        retired = []
        for old in sorted(table_dir.iterdir()):
            if old.is_dir() and not old.name.startswith("."):
                target = table_dir / f".retired-{old.name}"
                if target.exists():
                    shutil.rmtree(target)
                old.rename(target)
                retired.append(target)
        incoming.rename(table_dir / edition)
        entry: dict[str, Any] = {
            "edition": edition,
            "folder": f"{name}/{edition}",
            "fetched": _now(),
            "rows": rows,
            "files": [
                {"url": item.url, "name": item.path.name, "sha256": item.sha256} for item in files
            ],
        }
        if publication.license:
            entry["license"] = publication.license
        manifest["tables"][name] = entry
        write_manifest(folder, manifest)
        for old_dir in retired:
            shutil.rmtree(old_dir, ignore_errors=True)
    except _Failed as exc:
        kept = (manifest["tables"].get(name) or {}).get("edition")
        keep = f"; kept edition {kept}" if kept else ""
        return Outcome(name, exc.status, f"{name}: {exc}{keep}", kept)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if staging.parent.is_dir() and not any(staging.parent.iterdir()):
            staging.parent.rmdir()
    was = previous.get("edition")
    replaced = f" (replaces {was})" if was and was != edition else ""
    message = f"{name}: installed edition {edition}, {rows:,} rows{replaced}"
    return Outcome(name, "installed", message, edition, rows)


# -- update from the publishers ----------------------------------------------------------------


def _is_file_url(publication: Publication, url: str) -> bool:
    path = url.split("?", 1)[0].lower()
    return bool(publication.link.search(url)) or path.endswith((".zip", ".csv", ".txt"))


def _resolve(publication: Publication, urls: Sequence[str], timeout: float) -> list[str]:
    """The file URLs of the newest edition: landing pages are read for their links."""
    found: list[str] = []
    for url in urls:
        if _is_file_url(publication, url):
            found.append(url)
            continue
        kind, html = get_page(url, timeout)
        if kind != "text/html":
            found.append(url)
            continue
        links = newest_links(publication, url, html)
        if not links:
            raise _Failed(
                f"{url} links no file matching {publication.link.pattern} "
                "(page changed? set [refdata.urls] in edi837.toml)"
            )
        found.extend(links)
    return found


def _current(
    folder: Path, manifest: Mapping[str, Any], name: str, files: Sequence[_File]
) -> Outcome | None:
    """An ``unchanged`` outcome when these are the very files of the installed edition."""
    previous = manifest["tables"].get(name) or {}
    old = sorted(str(f.get("sha256")) for f in previous.get("files", []))
    if not old or old != sorted(f.sha256 for f in files):
        return None
    if not (folder / str(previous.get("folder"))).is_dir():
        return None
    edition = previous.get("edition")
    return Outcome(name, "unchanged", f"{name}: edition {edition} is current", edition)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def selected(only: Iterable[str] | None) -> list[Publication]:
    """The publications named in ``only`` (all when None); raises ValueError for a bad name."""
    if only is None:
        return list(PUBLICATIONS)
    names = [n.strip() for n in only if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown table(s): {', '.join(unknown)} (known: {', '.join(BY_NAME)})")
    return [p for p in PUBLICATIONS if p.name in names]


def update(
    folder: Path,
    *,
    only: Iterable[str] | None = None,
    urls: Mapping[str, Sequence[str]] | None = None,
    accept_license: bool = False,
    force: bool = False,
    timeout: float = 60.0,
    progress: Progress | None = None,
    today: date | None = None,
) -> list[Outcome]:
    """Download the newest edition of each selected table and install those that load.

    Args:
        folder: The reference data folder (created when absent).
        only: Table names to update (default: all of :data:`PUBLICATIONS`).
        urls: Addresses to use instead of the shipped ones, per table (pages or files).
        accept_license: Accept the AMA CPT licence of the NCCI files (recorded once).
        force: Install an edition whose row count changed by more than :data:`ROW_BOUND`.
        timeout: Seconds without data before a download gives up.
        progress: Callback for a progress bar.
        today: The date editions are judged against (default: today).

    Returns:
        One outcome per table, in the order of :data:`PUBLICATIONS`.
    """
    today = today or date.today()
    publications = selected(only)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(folder)
    accepted = _licences_ok(folder, manifest, publications, accept_license)
    outcomes = []
    for publication in publications:
        name = publication.name
        if publication.license and publication.license not in accepted:
            outcomes.append(Outcome(name, "needs-license", _licence_message(publication)))
            continue
        kept = (manifest["tables"].get(name) or {}).get("edition")
        keep = f"; kept edition {kept}" if kept else ""
        fetched: list[Fetched] = []
        try:
            sources = list((urls or {}).get(name) or [publication.url])
            for link in _resolve(publication, sources, timeout):
                target = folder / ".downloads" / name
                fetched.append(download(link, target, timeout=timeout, progress=progress))
        except (FetchError, _Failed) as exc:
            # Parts already complete are fetched again next time; a partial one is resumed.
            for item in fetched:
                item.path.unlink(missing_ok=True)
            status: Status = exc.status if isinstance(exc, _Failed) else "failed"
            outcomes.append(Outcome(name, status, f"{name}: {exc}{keep}", kept))
            continue
        files = [_File(f.url, f.path, f.sha256) for f in fetched]
        current = _current(folder, manifest, name, files)
        outcomes.append(
            current or _install(folder, manifest, publication, files, force=force, today=today)
        )
        for item in fetched:
            item.path.unlink(missing_ok=True)
    return outcomes


# -- import of files downloaded elsewhere ------------------------------------------------------


def _members(path: Path) -> list[str]:
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                return [Path(n).name for n in archive.namelist() if not n.endswith("/")]
        except (zipfile.BadZipFile, OSError):
            return []
    return [path.name]


def import_files(
    folder: Path,
    paths: Sequence[Path],
    *,
    accept_license: bool = False,
    force: bool = False,
    today: date | None = None,
) -> list[Outcome]:
    """Install editions from files downloaded elsewhere (zips as published, or their members).

    Each file is sorted to its table by the names it holds; the files of one table (the four
    NCCI PTP zips) are installed together, with the same checks as :func:`update`.
    """
    today = today or date.today()
    groups: dict[str, list[Path]] = {}
    outcomes: list[Outcome] = []
    for path in paths:
        if not path.is_file():
            outcomes.append(Outcome(str(path), "failed", f"{path}: no such file"))
            continue
        names = _members(path)
        tables = [p.name for p in PUBLICATIONS if any(p.member.search(n) for n in names)]
        if not tables:
            what = "damaged or empty zip" if path.suffix.lower() == ".zip" and not names else ""
            outcomes.append(
                Outcome(
                    str(path),
                    "failed",
                    f"{path}: {what or 'holds none of the official files'} "
                    "(NCCI PTP, MUE, ASP crosswalk, HCPCS, FDA NDC, MDRP)",
                )
            )
            continue
        for table in tables:
            groups.setdefault(table, []).append(path)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(folder)
    publications = [BY_NAME[name] for name in groups]
    accepted = _licences_ok(folder, manifest, publications, accept_license)
    for publication in sorted(publications, key=PUBLICATIONS.index):
        if publication.license and publication.license not in accepted:
            outcomes.append(
                Outcome(publication.name, "needs-license", _licence_message(publication))
            )
            continue
        files = [
            _File(path.resolve().as_uri(), path, _sha256(path)) for path in groups[publication.name]
        ]
        current = _current(folder, manifest, publication.name, files)
        outcomes.append(
            current or _install(folder, manifest, publication, files, force=force, today=today)
        )
    return outcomes


def has_manifest(folder: Path) -> bool:
    """True when ``folder`` is a reference data folder written by :func:`update` or import."""
    return (folder / MANIFEST).is_file()
