"""The folder watcher: take settled files from an inbox, process each once, file it away.

Owns the run of ``edi837 watch``: the lock that makes one run the owner of ``OUTDIR``, the
reconciliation of what a killed run left behind, the loop that waits for inbox files to
settle (woken by ``watchdog`` events, or by its polling observer on network mounts where events
are unreliable), the stop on SIGTERM/SIGINT after the current file, and the JSON-lines log.

A file's life: settled in the inbox -> claimed by a rename into ``work/`` -> processed by
:func:`edi837.ops.process.process_file` (outputs in ``outbox/`` written atomically, then the
ledger row committed) -> moved to ``archive/YYYY-MM-DD/``, ``errors/`` or ``duplicates/``.
Every step is a rename or is repeatable, so a crash at any moment leaves the file either in
the inbox, in ``work/`` (processed again on restart, with the same outputs, and the ledger
row replaced rather than doubled) or in its final folder; never in two places, never nowhere.
Nothing written to the log or to standard error holds an element value of a party segment
(NM1, N3, N4, DMG, REF, PER): only names of files, hashes, counts and rule codes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import select
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from edi837.engine import Engine
from edi837.findings import Severity
from edi837.ops import inbox
from edi837.ops.inbox import Layout
from edi837.ops.ledger import Ledger, LedgerError
from edi837.ops.outcome import DONE, DUPLICATE, ERROR, SKIPPED, Outcome
from edi837.ops.process import process_file

__all__ = ["Handled", "LockHeld", "WatchOptions", "Watcher", "serve"]

#: Without polling, the inbox is scanned again this often even when no event came, so an
#: event lost by the kernel (queue overflow) delays a file but never strands it.
RESCAN_SECONDS = 30.0


_NO_FINDINGS = {s.value: 0 for s in Severity}


class LockHeld(Exception):
    """Another run holds ``OUTDIR/.lock``."""


@dataclass(frozen=True)
class WatchOptions:
    """What ``edi837 watch`` was asked to do."""

    inbox: Path
    outdir: Path
    settle: float = 2.0
    poll: float | None = None
    once: bool = False
    outputs: frozenset[str] = frozenset({"report", "split"})
    #: Acknowledgement types written to outbox/ per file (those that apply); empty for none.
    acks: tuple[str, ...] = ()
    fail_on: Severity = Severity.REJECT
    ledger: Path | None = None
    log_file: Path | None = None
    #: A settled file that begins as X12 but lacks the IEA closing its last interchange is
    #: held until its modification time is this old, then filed in errors/ as truncated.
    truncated_after: float = 600.0


@dataclass
class Handled:
    """What became of one file: where it went and why (a log line)."""

    file: str
    status: str
    moved_to: Path
    outcome: Outcome | None = None
    sha256: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None
    reconciled: bool = False

    def to_dict(self, root: Path) -> dict[str, Any]:
        """The JSON log line: counts, codes and names only (no element values)."""
        outcome = self.outcome
        return {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "file": self.file,
            "sha256": self.sha256 or (outcome.sha256 if outcome else None),
            "status": self.status,
            "claims": outcome.claims if outcome else 0,
            "findings": dict(outcome.findings_by_severity) if outcome else _NO_FINDINGS,
            "codes": dict(outcome.codes) if outcome else {},
            "seconds": round(outcome.seconds, 3) if outcome else 0.0,
            "moved_to": _relative(self.moved_to, root),
            "outputs": [_relative(p, root) for p in (outcome.outputs if outcome else [])],
            "error": self.reason if self.status == ERROR else None,
            "duplicate_of": self.duplicate_of,
            "reconciled": self.reconciled,
        }


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


@dataclass
class _Waker:
    """A self-pipe: signal handlers and the observer thread wake the main loop through it.

    Writing one byte to a pipe is safe from a signal handler, unlike taking the lock inside
    a ``threading.Event``.
    """

    read_fd: int = -1
    write_fd: int = -1

    def open(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self.write_fd, b".")

    def wait(self, timeout: float) -> None:
        """Sleep until woken or ``timeout`` seconds passed; drain the wake-ups."""
        with contextlib.suppress(InterruptedError):
            select.select([self.read_fd], [], [], max(0.0, timeout))
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self.read_fd, 4096):
                pass

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                os.close(fd)
        self.read_fd = self.write_fd = -1


@dataclass
class Watcher:
    """One run of the watcher over ``options.inbox`` into ``options.outdir``."""

    options: WatchOptions
    engine: Engine | None = None
    on_handled: Callable[[Handled], None] | None = None
    on_notice: Callable[[str], None] | None = None
    clock: Callable[[], float] = time.monotonic
    handled: list[Handled] = field(default_factory=list)
    _stopping: bool = False
    _waker: _Waker = field(default_factory=_Waker)
    _held: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.inbox = self.options.inbox.resolve()
        self.layout = Layout(self.options.outdir.resolve())
        self.settler = inbox.Settler(self.options.settle, self.clock)
        self.mark = inbox.claim_mark(self.layout.root)
        self._ledger: Ledger | None = None
        self._log: IO[str] | None = None
        self._lock_fd: int | None = None
        self.ledger_path = (self.options.ledger or self.layout.root / "edi837.sqlite").resolve()
        # The watcher's own log and ledger, should they be kept in the inbox, are not input.
        own = [self.ledger_path] + ([self.options.log_file] if self.options.log_file else [])
        self._own_names = {
            p.resolve().name + suffix
            for p in own
            if p.resolve().parent == self.inbox
            for suffix in ("", "-wal", "-shm", "-journal")
        }

    # -- control --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the run to end after the current file (safe to call from a signal handler)."""
        self._stopping = True
        self._waker.wake()

    def run(self) -> list[Handled]:
        """Reconcile, then watch (or, with ``once``, empty the inbox); return what was handled.

        Raises :class:`LockHeld` when another run owns ``OUTDIR``.
        """
        with self.locked():
            self.layout.create()
            self._waker.open()
            try:
                self._ledger = Ledger(self.ledger_path)
                with self._log_file():
                    self.layout.sweep_temporaries()
                    self.reconcile()
                    if self.options.once:
                        self._drain()
                    else:
                        self._watch()
            finally:
                if self._ledger is not None:
                    self._ledger.close()
                    self._ledger = None
                self._waker.close()
        return self.handled

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Own ``OUTDIR`` for the block (nothing happens when this run already owns it).

        Raises :class:`LockHeld` at once when another run owns it.
        """
        if self._lock_fd is not None:
            yield
            return
        self.layout.root.mkdir(parents=True, exist_ok=True)
        # A kernel lock, not a PID file: it is released whatever way the process ends
        # (SIGKILL included), so a crash never leaves a stale lock behind.
        fd = os.open(self.layout.lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockHeld(str(self.layout.lock)) from None
            self._lock_fd = fd
            yield
        finally:
            self._lock_fd = None
            os.close(fd)

    @contextlib.contextmanager
    def _log_file(self) -> Iterator[None]:
        if self.options.log_file is None:
            yield
            return
        self.options.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.options.log_file, "a", encoding="utf-8") as log:
            self._log = log
            try:
                yield
            finally:
                self._log = None

    # -- after a crash --------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Finish what a killed run left: claims half-copied across file systems, ``work/``.

        A file in ``work/`` is processed again: when its ledger row is ``done`` its outputs
        are complete (the row is committed only after them) and it only needs filing; when
        the row is ``in-progress`` or absent it is processed from the start, and the outputs
        it rewrites are the same, by the same names.
        """
        for hidden in inbox.unfinished_claims(self.inbox, self.mark):
            name = inbox.original_name(hidden, self.mark)
            target = self.layout.work / name
            if target.exists():
                # The copy was renamed into work/ (after its fsync): only the unlink is left.
                os.unlink(hidden)
                inbox.fsync_folder(hidden.parent)
            else:
                inbox.copy_claimed(hidden, target)
        for path in sorted(self.layout.work.iterdir()):
            if self._stopping:
                return
            if path.name.startswith(".") or not path.is_file():
                continue
            if inbox.interchange_closed(path) is False:
                # Only a file judged truncated is ever claimed without its closing IEA.
                self._truncated(path, path.name, reconciled=True)
                continue
            self._process(path, path.name, fresh=False)
        assert self._ledger is not None
        for row in self._ledger.in_progress():
            # Begun, never finished, and no longer in work/ to be finished: someone moved it.
            path = Path(str(row["path"]))
            if path.parent == self.layout.work and not path.exists() and self.on_notice:
                self.on_notice(
                    f"{path.name}: the ledger has it in progress, but it is no longer in "
                    f"{self.layout.work}; put it back in the inbox to process it"
                )

    # -- the loops ------------------------------------------------------------------------------

    def _drain(self) -> None:
        """``--once``: take every file that settles, until none is left waiting."""
        while not self._stopping:
            self._pass()
            due = self.settler.waiting()
            if due is None or self._stopping:
                return
            self._waker.wait(due)

    def _watch(self) -> None:
        from watchdog.observers import Observer
        from watchdog.observers.api import BaseObserver
        from watchdog.observers.polling import PollingObserver

        observer: BaseObserver
        if self.options.poll:
            observer = PollingObserver(timeout=self.options.poll)
        else:
            observer = Observer()
        observer.schedule(_WakeOnEvent(self._waker), str(self.inbox), recursive=False)
        observer.start()
        rescan = self.options.poll or RESCAN_SECONDS
        try:
            while not self._stopping:
                self._pass()
                due = self.settler.waiting()
                self._waker.wait(rescan if due is None else min(due, rescan))
        finally:
            observer.stop()
            observer.join()

    def _pass(self) -> None:
        """Scan the inbox once and take every file that has settled."""
        entries = inbox.scan_inbox(self.inbox)
        for name in self._own_names:
            entries.pop(name, None)
        now = time.time()
        for name, key in list(self._held.items()):
            st = entries.get(name)
            unchanged = st is not None and (st.st_size, st.st_mtime_ns) == key
            if unchanged and st is not None and now - st.st_mtime < self.options.truncated_after:
                # Still waiting for its IEA: not tracked, so --once does not wait for it.
                del entries[name]
            else:
                del self._held[name]
        self.settler.observe(entries)
        for name in self.settler.ready():
            if self._stopping:
                return
            self._consider(name)

    def _consider(self, name: str) -> None:
        source = self.inbox / name
        try:
            st = source.stat()
            closed = inbox.interchange_closed(source)
        except FileNotFoundError:
            self.settler.forget(name)
            return
        except OSError:
            closed = None  # unreadable: taken, and the processor says why in errors/
        if not self.settler.still(name, st):
            return  # it changed since the scan: the next scan starts its quiet period anew
        truncated = False
        if closed is False:
            # A sender may pause mid-file: hold it while it is recent, so a slow upload is
            # never judged half-way; an old file that still lacks its IEA is truncated.
            if time.time() - st.st_mtime < self.options.truncated_after:
                self._held[name] = (st.st_size, st.st_mtime_ns)
                self.settler.forget(name)
                return
            truncated = True
        self._held.pop(name, None)
        self.settler.forget(name)
        today = dt.date.today()
        work_name = self.layout.free_name(name, today)
        claimed = inbox.claim(source, self.layout.work, work_name, self.mark)
        if claimed is None:
            return  # another watcher renamed it first: it is theirs
        if truncated:
            self._truncated(claimed, name)
            return
        self._process(claimed, name, fresh=True)

    def _truncated(self, path: Path, name: str, *, reconciled: bool = False) -> None:
        """File a file whose interchange never closed in errors/, unprocessed."""
        reason = (
            f"{name}: truncated: the file does not end with the IEA that closes its "
            f"interchange and has not changed for {self.options.truncated_after:g} s; "
            "ask the sender to send it again"
        )
        target = inbox.destination(path, self.layout.errors)
        self._report(Handled(name, ERROR, target, reason=reason, reconciled=reconciled))
        inbox.move(path, target, reason)

    # -- one file -------------------------------------------------------------------------------

    def _process(self, path: Path, name: str, *, fresh: bool) -> None:
        assert self._ledger is not None and self.engine is not None
        try:
            digest: str | None = inbox.sha256_of(path)
        except OSError:
            digest = None  # unreadable: the processor says why
        row = self._ledger.file_row(digest) if digest else None
        outcome: Outcome | None = None
        if fresh and row is not None and row["status"] == DONE and row["path"] == str(path):
            # A new file with the same bytes and the same name as one done before (its
            # outputs since taken from outbox/, so the name was free again). The processor
            # would take it for the same file finishing after a crash and skip it; it is a
            # resubmission, answered here, leaving the first file's row as it is.
            first = Path(str(row["path"])).name
            status = DUPLICATE
            reason: str | None = (
                f"{path.name}: duplicate of {first}: the same content was already processed"
            )
        else:
            try:
                outcome = process_file(
                    path,
                    self.layout.outbox,
                    engine=self.engine,
                    ledger=self._ledger,
                    outputs=self.options.outputs,
                    fail_on=self.options.fail_on,
                    name=inbox.output_stem(path.name),
                    acks=self.options.acks,
                )
            except (LedgerError, sqlite3.Error):
                raise  # the ledger, not this file, is at fault: stop with the file in work/
            except Exception as exc:  # noqa: BLE001 - one file must not stop the watcher
                # Otherwise the file would stop every restart of the service in turn.
                outcome = None
                status, first = ERROR, ""
                reason = (
                    f"{path.name}: internal error while processing: {type(exc).__name__}: "
                    f"{exc}".splitlines()[0]
                    + " (please report it with this file)"
                )
            else:
                # SKIPPED: this very file, its row committed before a crash; only filing is left.
                status = DONE if outcome.status == SKIPPED else outcome.status
                reason, first = outcome.error, outcome.duplicate_of or ""
        if reason:
            # The reason names the file as it arrived, not its place in work/.
            reason = reason.replace(str(path), path.name)
        if status == DONE:
            folder, why = self.layout.archive(dt.date.today()), None
        elif status == DUPLICATE:
            folder = self.layout.duplicates
            why = reason or f"{path.name}: duplicate of {first}: already processed"
        else:
            folder = self.layout.errors
            why = reason or f"{path.name}: could not be processed"
        folder.mkdir(parents=True, exist_ok=True)
        target = inbox.destination(path, folder)
        handled = Handled(
            name,
            status,
            target,
            outcome=outcome,
            sha256=digest,
            reason=reason,
            duplicate_of=first or None,
            reconciled=not fresh,
        )
        # Logged before the move: a crash in between repeats the line (marked reconciled)
        # when the file is processed again, rather than losing it.
        self._report(handled)
        inbox.move(path, target, why)

    def _report(self, handled: Handled) -> None:
        self.handled.append(handled)
        if self._log is not None:
            self._log.write(json.dumps(handled.to_dict(self.layout.root)) + "\n")
            self._log.flush()
        if self.on_handled is not None:
            self.on_handled(handled)


class _WakeOnEvent(FileSystemEventHandler):
    """A watchdog handler that only wakes the loop: the scan of the inbox decides.

    A created event fires while the file is still being written, so an event never means
    "take it"; it means "look again".
    """

    def __init__(self, waker: _Waker) -> None:
        super().__init__()
        self.waker = waker

    def on_any_event(self, event: FileSystemEvent) -> None:
        del event
        self.waker.wake()


@contextlib.contextmanager
def stop_on_signals(watcher: Watcher) -> Iterator[None]:
    """SIGTERM and SIGINT ask the watcher to stop after the current file."""

    def handler(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        watcher.stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(
    options: WatchOptions,
    load_engine: Callable[[], Engine],
    on_handled: Callable[[Handled], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> list[Handled]:
    """Run the watcher until the inbox is empty (``once``) or a signal stops it.

    The lock is taken first: a cron run that finds another one still busy exits at once,
    without loading the rules and reference data.
    """
    watcher = Watcher(options, None, on_handled, on_notice)
    with watcher.locked():
        watcher.engine = load_engine()
        with stop_on_signals(watcher):
            return watcher.run()
