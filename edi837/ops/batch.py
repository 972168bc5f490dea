"""``edi837 batch``: many files, in parallel worker processes, with one summary at the end.

A clearinghouse's nightly run hands over thousands of files. Each file goes through
:func:`edi837.ops.process.process_file` in a worker process; each worker loads the compiled
guide, the rules and the reference data once (the pool's initializer), not per file. A large
file that holds several interchanges is cut at ISA boundaries (:mod:`edi837.ops.cutting`) and
its pieces are checked by several workers; their findings are merged back in file order with
segment numbers, byte offsets and line numbers made the file's own, so the report equals what
``edi837 check`` says of the whole file.

Duplicates are decided in input order: the parent process scans every file (sha256 and
envelopes) before any is handed out, and a file that repeats the content or an interchange
(sender and ISA13) of an earlier file of the same run is refused as a duplicate of it. Files
done in an earlier run are skipped by the workers, through the ledger.

With acknowledgements asked for (``acks``), each processed file gets its TA1, 999 and 277CA
next to its report, built from the whole file (a cut file is read once more, whole, by the
worker that writes it, so its answers are those of the uncut file) and numbered from the
ledger's counters, which the workers share.

``OUTDIR/batch.json`` sums the run up (files, claims, findings by severity and code, seconds,
claims per second) and ``OUTDIR/batch.html`` is the HTML report over every file.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from edi837.api import split
from edi837.engine import ClaimView, Engine, FileResult
from edi837.findings import Finding, Severity
from edi837.ops.cutting import Layout, Piece, pieces, scan
from edi837.ops.ledger import Ledger
from edi837.ops.outcome import DUPLICATE, ERROR, SKIPPED, ClaimRow, Outcome
from edi837.ops.process import (
    DEFAULT_OUTPUTS,
    Checked,
    SplitPart,
    check_source,
    output_name,
    process_file,
)
from edi837.source import Source
from edi837.x12.reader import X12SyntaxError
from edi837.x12.writer import atomic_output

__all__ = [
    "BatchOptions",
    "BatchResult",
    "EngineOptions",
    "collect_inputs",
    "merge_pieces",
    "run_batch",
]

#: A file at least this large with several interchanges is shared among the workers.
CUT_SIZE = 4 << 20


@dataclass(frozen=True)
class EngineOptions:
    """What each worker needs to build its own engine (an engine is not sent between processes)."""

    profile: str | None = None
    select: str | None = None
    ignore: str | None = None
    refdata: str | None = None
    config: str | None = None

    def load(self) -> Engine:
        """The engine for these options."""
        from edi837.api import load_engine

        return load_engine(
            profile=self.profile,
            select=self.select,
            ignore=self.ignore,
            refdata=self.refdata,
            config=self.config,
        )


@dataclass
class BatchOptions:
    """How a batch runs.

    Attributes:
        outdir: where the outputs, ``batch.json`` and ``batch.html`` go.
        outputs: per-file outputs (``report``, ``split``, ``fixed``, ``annotated``).
        jobs: worker processes (1: everything in this process).
        ledger: the ledger file (default ``OUTDIR/edi837.sqlite``).
        force: redo files the ledger has as done.
        fail_on: the severity at which a claim is rejected and the run exits 1.
        engine: the rule options each worker builds its engine from.
        cut_size: a file at least this large with several interchanges is cut into pieces.
        html: write ``batch.html`` (keeps a view of every claim in memory for it).
        acks: the acknowledgement types to write per file (``ta1``, ``999``, ``277ca``; those
            that apply); empty for none.
    """

    outdir: Path
    outputs: frozenset[str] = DEFAULT_OUTPUTS
    jobs: int = 1
    ledger: Path | None = None
    force: bool = False
    fail_on: Severity = Severity.REJECT
    engine: EngineOptions = field(default_factory=EngineOptions)
    cut_size: int = CUT_SIZE
    html: bool = True
    acks: tuple[str, ...] = ()

    @property
    def ledger_path(self) -> Path:
        """The ledger file."""
        return self.ledger if self.ledger is not None else self.outdir / "edi837.sqlite"


@dataclass
class BatchResult:
    """Every file's outcome in input order, and the run's totals."""

    outcomes: list[Outcome]
    seconds: float
    jobs: int
    summary: Path | None = None
    html: Path | None = None

    @property
    def claims(self) -> int:
        """Claims in the files processed in this run (skipped files not counted)."""
        return sum(o.claims for o in self.outcomes if o.status != SKIPPED)

    def exit_code(self, fail_on: Severity) -> int:
        """The exit code of the run (the contract of ``architecture.md`` §3).

        2 when an input was unreadable, 1 for findings at or above ``fail_on`` or a
        duplicate, else 0.
        """
        if any(o.status == ERROR for o in self.outcomes):
            return 2
        if any(o.status == DUPLICATE or o.fails_at(fail_on) for o in self.outcomes):
            return 1
        return 0

    def to_dict(self) -> dict[str, Any]:
        """``batch.json``: the run summed up, then one item per file."""
        by_status: dict[str, int] = {}
        by_severity = {s.value: 0 for s in Severity}
        codes: dict[str, int] = {}
        for outcome in self.outcomes:
            by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
            if outcome.status == SKIPPED:
                continue
            for sev, count in outcome.findings_by_severity.items():
                by_severity[sev] = by_severity.get(sev, 0) + count
            for code, count in outcome.codes.items():
                codes[code] = codes.get(code, 0) + count
        seconds = self.seconds
        return {
            "version": 1,
            "summary": {
                "files": len(self.outcomes),
                "by_status": dict(sorted(by_status.items())),
                "claims": self.claims,
                "findings": by_severity,
                "codes": dict(sorted(codes.items())),
                "seconds": round(seconds, 3),
                "claims_per_second": round(self.claims / seconds, 1) if seconds > 0 else None,
                "jobs": self.jobs,
            },
            "files": [o.to_dict() for o in self.outcomes],
        }


# -- inputs ------------------------------------------------------------------------------------


def collect_inputs(names: Sequence[str], glob: str | None = None) -> list[Path]:
    """The files named, with folders walked in name order.

    In a folder, ``glob`` selects file names (default: every regular file whose name does
    not start with ``.``, which also leaves out half-written temporary outputs). A file named
    twice is taken once. Raises :class:`FileNotFoundError` for a name that does not exist.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = sorted(_walk(path, glob))
        elif path.exists():
            found = [path]
        else:
            raise FileNotFoundError(name)
        for item in found:
            key = item.resolve()
            if key not in seen:
                seen.add(key)
                files.append(item)
    return files


def _walk(folder: Path, glob: str | None) -> Iterable[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            if glob is not None and not fnmatch(name, glob):
                continue
            path = Path(root) / name
            if path.is_file():
                yield path


# -- workers -----------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(engine_options: EngineOptions, ledger_path: Path) -> None:
    """Pool initializer: the engine and a ledger connection, once per worker process."""
    _worker["engine"] = engine_options.load()
    _worker["ledger"] = Ledger(ledger_path)


def _process_task(
    path: Path,
    name: str,
    layout: Layout,
    options: BatchOptions,
    checked: Checked | None,
    split_parts: list[SplitPart] | None = None,
    scratch: Path | None = None,
) -> Outcome:
    try:
        return _process(path, name, layout, options, checked, split_parts)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _process(
    path: Path,
    name: str,
    layout: Layout,
    options: BatchOptions,
    checked: Checked | None,
    split_parts: list[SplitPart] | None,
) -> Outcome:
    return process_file(
        path,
        options.outdir,
        engine=_worker["engine"],
        ledger=_worker["ledger"],
        outputs=options.outputs,
        force=options.force,
        fail_on=options.fail_on,
        name=name,
        detail=options.html,
        layout=layout,
        checked=checked,
        split_parts=split_parts,
        acks=options.acks,
    )


def _piece_task(
    path: Path, piece: Piece, fail_on: Severity, detail: bool, scratch: Path | None
) -> tuple[Checked, SplitPart | None]:
    """Check one piece and, when the run splits, split it into ``scratch``."""
    with open(path, "rb") as handle:
        handle.seek(piece.start)
        data = handle.read(piece.end - piece.start)
    engine = _worker["engine"]
    checked = check_source(Source(data, str(path)), engine, fail_on=fail_on, detail=detail)
    if scratch is None or checked.result.status == "error":
        return checked, None
    try:
        routed = split(
            Source(data, str(path)),
            scratch,
            name=f"{piece.index:05d}",
            fail_on=fail_on,
            engine=engine,
        )
    except X12SyntaxError:
        return checked, None
    part = SplitPart(
        routed.accepted_path if routed.accepted else None,
        routed.rejected_path if routed.rejected else None,
        [routed.plan.rejected_at(n) for n in range(routed.plan.claims)],
    )
    return checked, part


# -- merging the pieces of a cut file ----------------------------------------------------------

#: Messages that name another segment by number (envelope trailers, HL parents): a piece
#: would number it within the piece, so such a file is checked again whole.
_NAMES_A_SEGMENT = re.compile(r"segment \d")


def merge_pieces(path: str, parts: Sequence[tuple[Piece, Checked]]) -> Checked | None:
    """The check of a whole file from the checks of its pieces, in file order.

    The pieces' findings and claim views are moved into the result (and renumbered in
    place), so a piece's check is not to be used again afterwards.

    Returns ``None`` when the pieces cannot stand for the whole (a piece could not be read,
    or a message names a segment by its number): the caller checks the file whole then.
    """
    merged = FileResult(path=path)
    rows: list[ClaimRow] = []
    segments = claims = 0
    for piece, checked in parts:
        result = checked.result
        if result.status == "error" or result.notices:
            return None
        for finding in result.findings:
            # A finding with no segment is placed by "the last interchange", which differs
            # between a piece and the file; one naming a segment by number would be misnumbered.
            if finding.segment_number is None or _NAMES_A_SEGMENT.search(finding.message):
                return None
        for finding in result.findings:
            merged.findings.append(_moved(finding, segments, piece))
        for view in result.claim_views:
            merged.claim_views.append(_moved_view(view, segments))
        rows.extend(replace(row, ordinal=row.ordinal + claims) for row in checked.claim_rows)
        merged.interchanges += result.interchanges
        merged.transactions += result.transactions
        merged.claims += result.claims
        merged.service_lines += result.service_lines
        merged.seconds += result.seconds
        segments += checked.segments
        claims += len(checked.claim_rows)
    merged.status = "findings" if merged.findings else "ok"
    return Checked(merged, rows, [], segments)


def _moved(finding: Finding, segments: int, piece: Piece) -> Finding:
    """The finding located in the whole file (changed in place: it came from a worker)."""
    if not (segments or piece.start or piece.lines_before):
        return finding
    fix = finding.fix
    if fix is not None and fix.edits:
        finding.fix = replace(
            fix,
            edits=tuple(replace(e, segment_number=e.segment_number + segments) for e in fix.edits),
        )
    if finding.segment_number is not None:
        finding.segment_number += segments
    if finding.byte_offset is not None:
        finding.byte_offset += piece.start
    if finding.line_number is not None:
        finding.line_number += piece.lines_before
    return finding


def _moved_view(view: ClaimView, segments: int) -> ClaimView:
    """The claim view numbered in the whole file (changed in place, as findings are)."""
    if segments:
        view.segment_number += segments
        for line in view.lines:
            line.segment_number += segments
    return view


# -- the run -----------------------------------------------------------------------------------


@dataclass
class _Planned:
    index: int
    path: Path
    name: str
    layout: Layout | None = None
    outcome: Outcome | None = None
    parts: list[tuple[Piece, Future[tuple[Checked, SplitPart | None]]]] = field(
        default_factory=list
    )
    scratch: Path | None = None


def run_batch(
    files: Sequence[Path],
    options: BatchOptions,
    *,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_start: Callable[[Path], None] | None = None,
    engine: Engine | None = None,
) -> BatchResult:
    """Process ``files`` into ``options.outdir`` and write ``batch.json`` and ``batch.html``.

    ``on_outcome`` is called as each file finishes (in completion order, for a progress
    display); the result lists the outcomes in input order. ``engine``, when given, is the
    one this process uses (for ``jobs=1``, and to write out a cut file) instead of building
    one from ``options.engine``.
    """
    started = time.perf_counter()
    options.outdir.mkdir(parents=True, exist_ok=True)
    with Ledger(options.ledger_path) as ledger:
        plan = _plan(files, ledger, options)
        if options.jobs <= 1:
            _run_here(plan, options, ledger, on_outcome, on_start, engine)
        else:
            _run_pool(plan, options, ledger, on_outcome, on_start, engine)
    outcomes = [p.outcome for p in plan if p.outcome is not None]
    batch = BatchResult(outcomes, time.perf_counter() - started, max(1, options.jobs))
    batch.summary = options.outdir / "batch.json"
    with atomic_output(batch.summary) as handle:
        handle.write((json.dumps(batch.to_dict(), indent=2) + "\n").encode("utf-8"))
    if options.html:
        from edi837.reports.html import write_html

        results = [o.result for o in outcomes if o.result is not None]
        page = io.StringIO()
        write_html(results, page)
        batch.html = options.outdir / "batch.html"
        with atomic_output(batch.html) as handle:
            handle.write(page.getvalue().encode("utf-8"))
    return batch


def _plan(files: Sequence[Path], ledger: Ledger, options: BatchOptions) -> list[_Planned]:
    """Scan every file in input order; refuse repeats of an earlier file of this run."""
    stems: dict[str, int] = {}
    for path in files:
        stem = output_name(path)
        stems[stem] = stems.get(stem, 0) + 1
    plan: list[_Planned] = []
    by_sha: dict[str, str] = {}
    by_key: dict[tuple[str, ...], str] = {}
    for index, path in enumerate(files):
        item = _Planned(index, path, output_name(path))
        plan.append(item)
        try:
            item.layout = scan(path)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            item.outcome = Outcome(
                ERROR, "", path, item.name, error=f"{path}: cannot read the file: {reason}"
            )
            continue
        layout = item.layout
        if stems[item.name] > 1:
            # Two inputs with one name (a/claims.837, b/claims.837): outputs by name plus a
            # content prefix, so neither overwrites the other and a rerun finds the same name.
            item.name = f"{item.name}-{layout.sha256[:8]}"
        first = by_sha.get(layout.sha256)
        keys = [i.key(with_receiver=ledger.match_receiver) for i in layout.interchanges or []]
        if first is None:
            first = next((by_key[k] for k in keys if k in by_key), None)
        if first is not None:
            item.outcome = _duplicate(ledger, item, first)
            continue
        by_sha[layout.sha256] = path.name
        for key in keys:
            by_key.setdefault(key, path.name)
    return plan


def _duplicate(ledger: Ledger, item: _Planned, first: str) -> Outcome:
    assert item.layout is not None
    outcome = Outcome(
        DUPLICATE,
        item.layout.sha256,
        item.path,
        item.name,
        size=item.layout.size,
        duplicate_of=first,
        error=f"{item.path}: duplicate of {first} (same content or same sender and ISA13)",
        interchanges=list(item.layout.interchanges or []),
        findings_by_severity={s.value: 0 for s in Severity},
    )
    ledger.finish_file(outcome)
    return outcome


def _run_here(
    plan: list[_Planned],
    options: BatchOptions,
    ledger: Ledger,
    on_outcome: Callable[[Outcome], None] | None,
    on_start: Callable[[Path], None] | None,
    engine: Engine | None,
) -> None:
    engine = engine if engine is not None else options.engine.load()
    for item in plan:
        if item.outcome is None:
            assert item.layout is not None
            if on_start is not None:
                on_start(item.path)
            item.outcome = process_file(
                item.path,
                options.outdir,
                engine=engine,
                ledger=ledger,
                outputs=options.outputs,
                force=options.force,
                fail_on=options.fail_on,
                name=item.name,
                detail=options.html,
                layout=item.layout,
                acks=options.acks,
            )
        if on_outcome is not None:
            on_outcome(item.outcome)


def _should_cut(item: _Planned, options: BatchOptions, ledger: Ledger) -> bool:
    layout = item.layout
    if layout is None or layout.interchanges is None or len(layout.interchanges) < 2:
        return False
    if layout.size < options.cut_size:
        return False
    if options.force:
        return True
    # A file the ledger has as done is skipped by process_file; no point checking its pieces.
    return ledger.file_status(layout.sha256) != "done"


def _run_pool(
    plan: list[_Planned],
    options: BatchOptions,
    ledger: Ledger,
    on_outcome: Callable[[Outcome], None] | None,
    on_start: Callable[[Path], None] | None,
    engine: Engine | None,
) -> None:
    jobs = options.jobs
    with ProcessPoolExecutor(
        max_workers=jobs,
        initializer=_init_worker,
        initargs=(options.engine, options.ledger_path),
    ) as pool:
        pending: dict[Future[Outcome], _Planned] = {}
        cut: list[_Planned] = []
        for item in plan:
            if item.outcome is not None:
                if on_outcome is not None:
                    on_outcome(item.outcome)
                continue
            assert item.layout is not None
            if _should_cut(item, options, ledger):
                if "split" in options.outputs:
                    item.scratch = _scratch(options.outdir, item.name)
                for piece in pieces(item.path, item.layout, jobs * 2):
                    future = pool.submit(
                        _piece_task, item.path, piece, options.fail_on, options.html, item.scratch
                    )
                    item.parts.append((piece, future))
                cut.append(item)
                continue
            future_outcome = pool.submit(
                _process_task, item.path, item.name, item.layout, options, None
            )
            pending[future_outcome] = item
        # The pieces of cut files, merged in file order, then written out. This process holds
        # the merged findings already: sending them to a worker and the outcome back would cost
        # more than the writing, so it writes them itself unless another pass is needed.
        for item in cut:
            assert item.layout is not None
            if on_start is not None:
                on_start(item.path)
            done = [(piece, future.result()) for piece, future in item.parts]
            merged = merge_pieces(str(item.path), [(piece, c) for piece, (c, _) in done])
            split_parts: list[SplitPart] | None = [part for _, (_, part) in done if part]
            if merged is None or item.scratch is None or len(split_parts or []) != len(done):
                split_parts = None  # the whole file is split by the worker that writes it
            needs_pass = (
                merged is None
                or bool(options.acks)
                or bool(options.outputs - {"report", "split"})
                or ("split" in options.outputs and split_parts is None)
            )
            if needs_pass:
                future_outcome = pool.submit(
                    _process_task,
                    item.path,
                    item.name,
                    item.layout,
                    options,
                    merged,
                    split_parts,
                    item.scratch,
                )
                pending[future_outcome] = item
                continue
            try:
                item.outcome = process_file(
                    item.path,
                    options.outdir,
                    engine=engine if engine is not None else options.engine.load(),
                    ledger=ledger,
                    outputs=options.outputs,
                    force=options.force,
                    fail_on=options.fail_on,
                    name=item.name,
                    detail=options.html,
                    layout=item.layout,
                    checked=merged,
                    split_parts=split_parts,
                    acks=options.acks,
                )
            finally:
                if item.scratch is not None:
                    shutil.rmtree(item.scratch, ignore_errors=True)
            if on_outcome is not None:
                on_outcome(item.outcome)
        for future_outcome in _as_completed(pending):
            item = pending[future_outcome]
            item.outcome = future_outcome.result()
            if on_outcome is not None:
                on_outcome(item.outcome)


def _scratch(outdir: Path, name: str) -> Path:
    """A hidden folder for the pieces' split outputs (those a killed run left go first)."""
    for stale in outdir.glob(f".{glob_escape(name)}.pieces-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".{name}.pieces-", dir=outdir))


def _as_completed(pending: dict[Future[Outcome], _Planned]) -> Iterable[Future[Outcome]]:
    from concurrent.futures import as_completed

    return as_completed(list(pending))
