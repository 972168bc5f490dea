"""The front door: read, check, fix, split and annotate 837P files.

Every command of the command line, the batch runner, the folder watcher and the tests go
through these functions; :mod:`edi837` re-exports them. An input is anything
:class:`~edi837.source.Source` accepts: a path, ``-`` for standard input, bytes or a binary
stream. Options name rule codes and profiles as the command line does::

    >>> import edi837
    >>> result = edi837.check("samples/clean-injection.837")
    >>> result.status, result.claims
    ('ok', 1)

An :class:`~edi837.engine.Engine` (selected rules, settings and reference data) is built from
the options once per distinct set of options and reused; pass ``engine=`` to share one
explicitly. Bad input never raises from :func:`check`: it becomes a result with status
``error``. :func:`fix`, :func:`split` and :func:`annotate` raise
:class:`~edi837.x12.reader.X12SyntaxError` (or its subclass :class:`No837P`) for input they
cannot process, before anything is written, and :class:`OptionsError` for options that make
no sense.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple, cast

from edi837.config import ConfigError, default_refdata_folder, load_config
from edi837.engine import Engine, FileResult
from edi837.finding_spool import FindingSpool
from edi837.findings import Finding, Severity
from edi837.fixing import Correction, LoggedEdit, correct, segment_diff
from edi837.reports.annotate import AnnotateSummary, write_listing
from edi837.rules.base import Settings
from edi837.source import No837P, Origin, Source, as_source
from edi837.splitting import SplitResult, split_source
from edi837.x12.reader import X12SyntaxError
from edi837.x12.segment import Segment
from edi837.x12.writer import atomic_output
from edi837.x837p.model import Claim
from edi837.x837p.tracker import Placement

__all__ = [
    "Claim",
    "Engine",
    "fix_diff",
    "writable_path",
    "FileResult",
    "Finding",
    "FixResult",
    "No837P",
    "OptionsError",
    "PlacedSegment",
    "Severity",
    "Source",
    "SplitResult",
    "X12SyntaxError",
    "annotate",
    "check",
    "claims",
    "fix",
    "load_engine",
    "segments",
    "split",
]

Target = str | os.PathLike[str] | BinaryIO


class OptionsError(ValueError):
    """Options that cannot be used.

    An unknown rule code, a bad configuration file, a missing reference-data folder, an
    output path that cannot be written.
    """


# -- engines ------------------------------------------------------------------------------------


def load_engine(
    *,
    profile: str | None = None,
    select: str | list[str] | None = None,
    ignore: str | list[str] | None = None,
    refdata: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> Engine:
    """An engine for these options.

    Settings come from ``config`` (default: ``edi837.toml`` in the working folder, when
    present) or ``settings``, then the options on top. ``select`` and ``ignore`` take codes
    or prefixes, as a list or comma-separated. Raises
    :class:`OptionsError` for an unknown code, a bad configuration or a missing folder.
    """
    from edi837.refdata import load_reference
    from edi837.rules.registry import UnknownRuleError

    if settings is None:
        try:
            settings, _ = load_config(Path(config) if config is not None else None)
        except ConfigError as exc:
            raise OptionsError(str(exc)) from None
    if select is not None:
        settings.select = _codes(select)
    if ignore is not None:
        settings.ignore = list(settings.ignore) + _codes(ignore)
    if profile is not None:
        settings.profile = profile
    if refdata is not None:
        settings.refdata = os.fspath(refdata)
    folder = Path(settings.refdata) if settings.refdata else default_refdata_folder()
    if folder is not None and not folder.is_dir():
        raise OptionsError(f"{folder}: reference data folder not found")
    try:
        reference = load_reference(folder)
    except (OSError, ValueError) as exc:
        raise OptionsError(f"reference data: {exc}") from None
    try:
        return Engine(settings, reference)
    except UnknownRuleError as exc:
        raise OptionsError(f"{exc} (see `edi837 rules` for the codes)") from None


def _codes(value: str | list[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    return [c.strip().upper() for c in items if c.strip()]


@functools.lru_cache(maxsize=8)
def _cached_engine(
    profile: str | None,
    select: tuple[str, ...] | None,
    ignore: tuple[str, ...] | None,
    refdata: str | None,
    config: str | None,
) -> Engine:
    return load_engine(
        profile=profile,
        select=list(select) if select is not None else None,
        ignore=list(ignore) if ignore is not None else None,
        refdata=refdata,
        config=config,
    )


def _engine(
    engine: Engine | None,
    profile: str | None,
    select: str | list[str] | None,
    ignore: str | list[str] | None,
    refdata: str | os.PathLike[str] | None,
    config: str | os.PathLike[str] | None = None,
) -> Engine:
    if engine is not None:
        return engine
    return _cached_engine(
        profile,
        tuple(_codes(select)) if select is not None else None,
        tuple(_codes(ignore)) if ignore is not None else None,
        os.fspath(refdata) if refdata is not None else None,
        os.fspath(config) if config is not None else None,
    )


# -- reading ------------------------------------------------------------------------------------


class PlacedSegment(NamedTuple):
    """A segment with where the guide puts it.

    ``placement.loop_id`` is pyx12's loop id (``2300``, ``2410``, ``ISA_LOOP`` ...) and
    ``placement.path`` the loops that enclose it.
    """

    segment: Segment
    placement: Placement

    @property
    def loop(self) -> str:
        """The pyx12 loop id of the segment."""
        return self.placement.loop_id


def segments(
    source: Origin | Source,
    *,
    on_finding: Callable[[Finding], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> Iterator[PlacedSegment]:
    """Every segment of the input in file order, with its loop placement; streams.

    ``on_finding`` receives the parser's envelope and structure findings as they arise, and
    ``on_notice`` what was skipped (transaction sets that are not 837P).
    Raises :class:`X12SyntaxError` for input that is not X12 and :class:`No837P` (after the
    last segment) when it holds no 837P transaction set.
    """
    src = as_source(source)
    with src.open_once() as stream:
        units = src.units(stream)
        for unit in units:
            if on_notice is not None and unit.notice:
                on_notice(unit.notice)
            if on_finding is not None:
                for finding in unit.findings:
                    on_finding(finding)
            # One C-level pass a unit: no generator step of this function per segment.
            yield from map(PlacedSegment._make, unit.segments)
        units.require_837p()


def claims(
    source: Origin | Source,
    *,
    profile: str | None = None,
    engine: Engine | None = None,
) -> Iterator[Claim]:
    """The claims of the input, one at a time, as typed views (lines, drug lines, parties).

    Raises :class:`X12SyntaxError` for input that is not X12 and :class:`No837P` when it holds
    no 837P transaction set.
    """
    del profile, engine  # accepted for symmetry with check(); claims are the same under any
    src = as_source(source)
    with src.open_once() as stream:
        units = src.units(stream)
        for unit in units:
            if unit.claim is not None:
                yield unit.claim
        units.require_837p()


# -- checking -----------------------------------------------------------------------------------


def check(
    source: Origin | Source,
    *,
    profile: str | None = None,
    select: str | list[str] | None = None,
    ignore: str | list[str] | None = None,
    refdata: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    engine: Engine | None = None,
    detail: bool = False,
    name: str | None = None,
    on_claim: Callable[[Claim, list[Finding]], None] | None = None,
    observe: Callable[[Segment], None] | None = None,
    keep_findings: int | None = None,
) -> FileResult:
    """Check one input and return its findings and counts (``.to_dict()`` is the JSON contract).

    Never raises for bad input: the result's ``status`` is ``error`` and ``error`` holds the
    one-line reason. With ``detail``, the result keeps a view of every claim that has findings,
    with its lines and the 96372 pairing (for the HTML report); clean claims are only counted,
    so memory stays bounded by the findings, not the file. ``on_claim`` is called with each
    claim and its findings as it is checked, and ``observe`` with every segment as it is read
    (what ``edi837 batch`` records per claim and per interchange). With ``keep_findings``, at
    most about that many findings stay in memory and ``findings`` is a
    :class:`~edi837.finding_spool.FindingSpool` holding the rest in a temporary file, read back
    in order on each pass (what ``check -f json`` and ``-f csv`` use on very large files).
    """
    src = as_source(source, name)
    checker = _engine(engine, profile, select, ignore, refdata, config)
    result = FileResult(path=src.name)
    if keep_findings is not None:
        result.findings = FindingSpool(keep_findings)
    started = time.perf_counter()
    units = None
    try:
        with src.open_once() as stream:
            units = src.units(stream, observe=observe)
            for unit, findings in checker.iter_checked(units):
                result.findings.extend(findings)
                claim = unit.claim
                if claim is None:
                    continue
                if on_claim is not None:
                    on_claim(claim, findings)
                if detail and findings:
                    result.claim_views.append(checker.claim_view(claim))
            units.require_837p()
    except X12SyntaxError as exc:
        result.status = "error"
        result.error = exc.describe(src.name)
    if units is not None:
        summary = units.summary
        result.notices = list(units.notices)
        result.interchanges = summary.interchanges
        result.transactions = summary.transactions
        result.claims = summary.claims
        result.service_lines = summary.service_lines
        result.segments = units.segments.segments_read
    if result.status != "error":
        result.status = "findings" if result.findings else "ok"
    result.seconds = time.perf_counter() - started
    return result


# -- fixing -------------------------------------------------------------------------------------


@dataclass
class FixResult:
    """The outcome of :func:`fix`.

    Attributes:
        name: the input as named.
        edits: every applied edit (the ``--log`` entries).
        fixed: findings repaired.
        remaining: findings still present in the output.
        passes: check-and-fix passes that applied edits.
        stopped: why the loop stopped early (``runaway`` or ``oscillation``), else ``None``.
        data: the corrected bytes, when no ``out`` was given.
        output: where the corrected file was written (the input itself for ``in_place``).
        original: for ``in_place`` with changes, where the original was kept.
    """

    name: str
    edits: list[LoggedEdit] = field(default_factory=list)
    fixed: int = 0
    remaining: list[Finding] = field(default_factory=list)
    passes: int = 0
    stopped: str | None = None
    data: bytes | None = None
    output: Path | None = None
    original: Path | None = None
    remaining_unsafe: int = 0

    @property
    def changed(self) -> bool:
        """True when at least one edit was applied."""
        return bool(self.edits)

    def fails(self, threshold: Severity) -> bool:
        """True when a remaining finding is at or above ``threshold``."""
        return any(f.severity.at_least(threshold) for f in self.remaining)


def fix(
    source: Origin | Source,
    out: Target | None = None,
    *,
    in_place: bool = False,
    unsafe: bool = False,
    profile: str | None = None,
    select: str | list[str] | None = None,
    ignore: str | list[str] | None = None,
    refdata: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    engine: Engine | None = None,
    log: str | os.PathLike[str] | None = None,
    redact_log: bool = False,
    workdir: str | os.PathLike[str] | None = None,
) -> FixResult:
    """Apply the safe fixes (and unsafe ones with ``unsafe``) until nothing changes.

    The corrected file goes to ``out`` (a path, written atomically, or a binary stream), back
    to the input with ``in_place`` (the original is kept as ``FILE.orig``, or ``FILE.orig.1``
    … when an earlier original exists, so the first one is never lost), or, with neither, into
    :attr:`FixResult.data`. ``log`` names a JSON file for the edits, written before the output
    is published. Raises :class:`X12SyntaxError` for input that cannot be fixed.
    """
    src = as_source(source)
    checker = _engine(engine, profile, select, ignore, refdata, config)
    if in_place:
        target = _in_place_target(src, out)
    elif out is not None and not hasattr(out, "write"):
        target = writable_path(Path(os.fspath(out)))
    else:
        target = None
    if log is not None:
        writable_path(Path(log))
    folder = _workdir(workdir, target)
    before = src.fingerprint()
    correction = correct(checker, src, folder, unsafe)
    try:
        result = _fix_result(src.name, correction)
        if log is not None:
            write_log(Path(log), correction.edits, redact=redact_log)
        if in_place:
            assert target is not None
            if correction.result is not None:
                if src.fingerprint() != before:
                    raise X12SyntaxError(
                        "the file changed while it was being fixed; it was not replaced",
                        hint="run the fix again once the file is complete",
                    )
                result.original = _keep_original(target)
                _publish(correction.result, src, target)
            result.output = target
        elif target is not None:
            _publish(correction.result, src, target)
            result.output = target
        elif out is not None:
            _copy_to(correction.result, src, out)  # type: ignore[arg-type]
        else:
            result.data = _read_all(correction.result, src)
    finally:
        correction.discard()
    return result


def fix_diff(
    source: Origin | Source,
    *,
    unsafe: bool = False,
    engine: Engine | None = None,
    workdir: str | os.PathLike[str] | None = None,
) -> tuple[FixResult, list[str]]:
    """What :func:`fix` would change, as a unified diff by segment; nothing is written."""
    src = as_source(source)
    checker = _engine(engine, None, None, None, None)
    correction = correct(checker, src, _workdir(workdir, None), unsafe)
    try:
        result = _fix_result(src.name, correction)
        after = Source(correction.result, src.name) if correction.result is not None else src
        lines = list(segment_diff(src, after, src.name))
    finally:
        correction.discard()
    return result, lines


def _fix_result(name: str, correction: Correction) -> FixResult:
    return FixResult(
        name=name,
        edits=correction.edits,
        fixed=correction.fixed_findings,
        remaining=correction.remaining,
        passes=correction.passes,
        stopped=correction.stopped,
        remaining_unsafe=correction.remaining_unsafe(),
    )


def write_log(path: Path, edits: list[LoggedEdit], *, redact: bool = False) -> None:
    """The ``--log`` file: every applied edit as a JSON array, written atomically.

    With ``redact``, the old and new values of edits in segments that carry patient data
    (NM1, N3, N4, DMG, REF, PER) are masked.
    """
    import json

    from edi837.redaction import MASK

    entries = []
    for edit in edits:
        entry = edit.to_dict()
        if redact and (edit.element or "")[:3].rstrip("0123456789") in _PATIENT_SEGMENTS:
            entry["old"] = MASK if entry["old"] else entry["old"]
            entry["new"] = MASK if entry["new"] else entry["new"]
        entries.append(entry)
    with atomic_output(path) as handle:
        handle.write((json.dumps(entries, indent=2) + "\n").encode("utf-8"))


# Segments whose values identify a person (names, ids, addresses, dates of birth, contacts).
_PATIENT_SEGMENTS = frozenset({"NM1", "N3", "N4", "DMG", "REF", "PER"})


def _in_place_target(src: Source, out: Target | None) -> Path:
    if out is not None:
        raise OptionsError("in-place fixing writes back to the input; give no output")
    path = src.path
    if path is None:
        raise OptionsError("in-place fixing needs a named file, not standard input")
    # A symlink is fixed through: the file it points to is replaced (next to itself) and the
    # link stays a link.
    real = Path(os.path.realpath(path))
    if not real.exists():
        raise X12SyntaxError("no such file", hint="check the path")
    if not stat.S_ISREG(real.stat().st_mode):
        raise OptionsError(f"{path}: in-place fixing needs a regular file")
    return real


def _keep_original(target: Path) -> Path:
    """Keep the bytes about to be replaced as ``FILE.orig`` (never overwriting an earlier one).

    A hard link keeps the original inode, which the atomic rename then leaves untouched: no
    copy, and no moment at which neither version exists.
    """
    for number in range(1000):
        suffix = ".orig" if number == 0 else f".orig.{number}"
        candidate = target.with_name(target.name + suffix)
        try:
            os.link(target, candidate)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
                raise
        try:
            with open(candidate, "xb") as handle, open(target, "rb") as original:
                shutil.copyfileobj(original, handle)
                handle.flush()
                os.fsync(handle.fileno())
            shutil.copymode(target, candidate)
            return candidate
        except FileExistsError:
            continue
    raise OptionsError(f"{target}: too many earlier originals (.orig … .orig.999); clean up")


def writable_path(path: Path) -> Path:
    """Refuse, before any work, an output path that cannot be written.

    A missing folder, a folder as the target, or a folder without write permission is an
    :class:`OptionsError` naming the path.
    """
    if str(path) == "-":
        return path
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OptionsError(f"{path}: is a folder; name a file to write")
    if not folder.is_dir():
        raise OptionsError(f"{path}: the folder {folder} does not exist")
    exists = path.exists()
    if exists and not stat.S_ISREG(path.stat().st_mode):
        if not os.access(path, os.W_OK):
            raise OptionsError(f"{path}: not writable")
        return path
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OptionsError(f"{path}: cannot write in {folder} (permission denied)")
    if exists and not os.access(path, os.W_OK):
        raise OptionsError(f"{path}: not writable (permission denied)")
    return path


def _workdir(workdir: str | os.PathLike[str] | None, target: Path | None) -> Path | None:
    if workdir is not None:
        return Path(workdir)
    if target is not None and stat.S_ISREG(_mode(target)):
        return target.parent if str(target.parent) else Path(".")
    return None


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode
    except OSError:
        return stat.S_IFREG


def _publish(result: Path | None, src: Source, target: Path) -> None:
    """Write the corrected version (or the unchanged input) to ``target`` atomically.

    The output carries the input's permission bits: a fixed claim file is as private as the
    original.
    """
    like = src.regular_path() if target != src.regular_path() else None
    with atomic_output(target, like=like) as handle:
        _copy_to(result, src, handle)


def _copy_to(result: Path | None, src: Source, out: BinaryIO) -> None:
    if result is not None:
        with open(result, "rb") as data:
            shutil.copyfileobj(data, out, 1 << 20)
    else:
        with src.open() as data:
            shutil.copyfileobj(data, out, 1 << 20)
    with contextlib.suppress(AttributeError, ValueError):
        out.flush()


def _read_all(result: Path | None, src: Source) -> bytes:
    if result is not None:
        return result.read_bytes()
    with src.open() as data:
        return data.read()


# -- splitting ----------------------------------------------------------------------------------


def split(
    source: Origin | Source,
    outdir: str | os.PathLike[str],
    *,
    name: str | None = None,
    fail_on: Severity | str = Severity.REJECT,
    profile: str | None = None,
    select: str | list[str] | None = None,
    ignore: str | list[str] | None = None,
    refdata: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    engine: Engine | None = None,
) -> SplitResult:
    """Write the input's claims to ``OUTDIR/NAME.accepted.837`` and ``NAME.rejected.837``.

    A claim with a finding at or above ``fail_on`` is rejected. ``name`` defaults to the
    input's file name without its extension (``stdin`` for standard input). Raises
    :class:`X12SyntaxError` for input that cannot be split; nothing is written then.
    """
    src = as_source(source)
    checker = _engine(engine, profile, select, ignore, refdata, config)
    folder = Path(outdir)
    if name is None:
        name = Path(src.name).stem if src.path is not None else "stdin"
    if name in ("", ".", "..") or Path(name).name != name:
        raise OptionsError("the output name must be a file name, without a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptionsError(f"{folder}: cannot create the output folder: {exc.strerror}") from None
    return split_source(checker, src, folder, name, Severity(fail_on))


# -- annotating ---------------------------------------------------------------------------------


def annotate(
    source: Origin | Source,
    out: Target,
    *,
    profile: str | None = None,
    select: str | list[str] | None = None,
    ignore: str | list[str] | None = None,
    refdata: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    engine: Engine | None = None,
    redact: bool = False,
    escape_controls: bool = False,
) -> AnnotateSummary:
    """Write the annotated listing of the input to ``out`` (a path, atomically, or a stream).

    ``redact`` masks patient data and ``escape_controls`` shows control characters inside
    segments as escapes (for a terminal); either gives up the byte-for-byte round trip, and
    the listing's header says so. Raises :class:`X12SyntaxError` for input that cannot be
    annotated; nothing is written then.
    """
    src = as_source(source)
    checker = _engine(engine, profile, select, ignore, refdata, config)
    if hasattr(out, "write"):
        stream = cast(BinaryIO, out)
        return write_listing(src, checker, stream, redact=redact, escape_controls=escape_controls)
    target = writable_path(Path(os.fspath(cast("os.PathLike[str]", out))))
    with atomic_output(target, like=src.regular_path()) as handle:
        return write_listing(src, checker, handle, redact=redact, escape_controls=escape_controls)
