"""Downloading one official file over HTTP(S): to a partial file first, resumed when cut off.

CMS and FDA files run to tens of megabytes and the links are slow at quarter starts, so a
download goes to ``NAME.part`` beside a small ``NAME.part.json`` (URL, validator, length).
When the connection drops, the next attempt asks for the rest with an HTTP ``Range`` (guarded
by ``If-Range``, so a file republished in the meantime is fetched afresh); a server that
answers with the whole file instead restarts it. Only the standard library is used; progress
is reported through a callback so the command line can draw a bar.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Called with (label, bytes so far, total bytes or None) as a download advances.
Progress = Callable[[str, int, int | None], None]

_CHUNK = 1 << 16
_ATTEMPTS = 3
_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.I)


class FetchError(Exception):
    """A download that did not complete; the message is one line saying why."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A completed download.

    Attributes:
        url: The address it came from.
        path: The downloaded file (named as the publisher named it).
        sha256: Hex digest of its bytes.
        size: Its length in bytes.
        resumed: True when part of it came from an earlier, interrupted attempt.
    """

    url: str
    path: Path
    sha256: str
    size: int
    resumed: bool


def _request(url: str, headers: dict[str, str]) -> urllib.request.Request:
    return urllib.request.Request(
        url, headers={"User-Agent": "edi837 (reference data update)", **headers}
    )


def get_page(url: str, timeout: float) -> tuple[str, str]:
    """GET a landing page: (content type, text). Raises :class:`FetchError`."""
    try:
        with urllib.request.urlopen(_request(url, {}), timeout=timeout) as response:
            kind = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            if kind != "text/html":
                return kind, ""
            return kind, response.read().decode(charset, errors="replace")
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise FetchError(f"{url}: no answer within {timeout:g} s (--timeout)") from None
    except (urllib.error.URLError, OSError, HTTPException) as exc:
        raise FetchError(f"{url}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, TimeoutError):
        return "no answer (--timeout)"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot connect ({exc.reason})"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def file_name(url: str, disposition: str | None = None) -> str:
    """The file name a download is saved under: ``Content-Disposition``, else the URL's."""
    if disposition:
        match = _FILENAME.search(disposition)
        if match:
            return Path(unquote(match.group(1))).name
    return Path(unquote(urlsplit(url).path)).name or "download"


def download(
    url: str,
    folder: Path,
    *,
    timeout: float,
    progress: Progress | None = None,
    attempts: int = _ATTEMPTS,
) -> Fetched:
    """Download ``url`` into ``folder``, resuming a partial file left by an earlier attempt.

    Args:
        url: The file's address.
        folder: Where the partial and the finished file go (created when absent).
        timeout: Seconds without data before giving up.
        progress: Optional callback for a progress bar.
        attempts: Tries within this call when the connection drops mid-file.

    Returns:
        The finished download.

    Raises:
        FetchError: HTTP error, timeout, or a connection that kept dropping (the partial
            file stays for the next run to resume).
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(url.encode()).hexdigest()[:12]
    part = folder / f"{key}.part"
    state_path = folder / f"{key}.part.json"
    resumed = False
    last = ""
    for _attempt in range(attempts):
        state = _read_state(state_path, url)
        have = part.stat().st_size if part.exists() and state else 0
        headers: dict[str, str] = {}
        if have:
            headers["Range"] = f"bytes={have}-"
            validator = state.get("etag") or state.get("last_modified")
            if validator:
                headers["If-Range"] = str(validator)
        try:
            with urllib.request.urlopen(_request(url, headers), timeout=timeout) as response:
                name = file_name(url, response.headers.get("Content-Disposition"))
                if response.status == 206 and have:
                    mode, done, resumed = "ab", have, True
                else:
                    mode, done = "wb", 0
                length = response.headers.get("Content-Length")
                total = done + int(length) if length and length.isdigit() else None
                _write_state(state_path, url, response.headers, total)
                with part.open(mode) as out:
                    while True:
                        chunk = response.read(_CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(name, done, total)
            if total is not None and done < total:
                last = f"download stopped after {done:,} of {total:,} bytes"
                continue
            return _finish(url, part, state_path, folder / name, resumed)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:
                # The partial file is no prefix of what the server holds now: start again.
                part.unlink(missing_ok=True)
                state_path.unlink(missing_ok=True)
                last = "server refused to resume; restarting"
                continue
            raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except TimeoutError:
            raise FetchError(
                f"{url}: no data for {timeout:g} s (--timeout); run again to resume"
            ) from None
        except (HTTPException, ConnectionError) as exc:
            done = part.stat().st_size if part.exists() else 0
            last = f"connection dropped after {done:,} bytes ({type(exc).__name__})"
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError(f"{url}: {_reason(exc)}") from None
    raise FetchError(f"{url}: {last}; run again to resume")


def _read_state(path: Path, url: str) -> dict[str, object]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) and state.get("url") == url else {}


def _write_state(path: Path, url: str, headers: object, total: int | None) -> None:
    get = getattr(headers, "get", None)
    etag = get("ETag") if get else None
    modified = get("Last-Modified") if get else None
    state = {"url": url, "etag": etag, "last_modified": modified, "length": total}
    path.write_text(json.dumps(state), encoding="utf-8")


def _finish(url: str, part: Path, state: Path, target: Path, resumed: bool) -> Fetched:
    digest = hashlib.sha256()
    with part.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    size = part.stat().st_size
    part.replace(target)
    state.unlink(missing_ok=True)
    return Fetched(url, target, digest.hexdigest(), size, resumed)
