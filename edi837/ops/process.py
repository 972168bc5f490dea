"""Processing one file for an unattended run: check, write its outputs, record it.

:func:`process_file` is what ``edi837 batch`` runs for each input and ``edi837 watch`` for
each file it takes from the inbox. In order:

1. one read for the sha256 and the interchange envelopes (:func:`edi837.ops.cutting.scan`);
2. content already ``done`` under the same path: skipped (``force`` redoes it); the same
   content under another name, or an interchange whose sender and ISA13 came in another
   file: refused as a ``duplicate`` naming the first file, nothing written;
3. the ledger marks the file ``in-progress``; the file is checked as ``edi837 check`` does;
4. each asked-for output is written to a temporary file, fsynced and renamed into place; the
   acknowledgements (``NAME.ta1``, ``NAME.999``, ``NAME.277ca``) last, built from the whole
   file with ISA13/GS06 and payer claim control numbers reserved from the ledger's counters;
5. only then is the ledger row (file, interchanges, claims) committed, in one transaction.

A crash at any point leaves at worst a complete output of the earlier attempt and an
``in-progress`` row; running again rewrites the same outputs and replaces the rows (the
acknowledgements with new numbers: a reserved number is never used twice, so the numbers of
the interrupted attempt are left as a gap). Nothing
returned or recorded carries an element value of NM1, N3, N4, DMG, REF or PER.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from edi837.acks.intake import Intake
from edi837.acks.model import ControlNumbers, DelimiterClash
from edi837.acks.writer import (
    Numbers,
    accepted_claims,
    build_acks,
    claims_of,
    control_numbers_needed,
    output_paths,
)
from edi837.api import OptionsError, annotate, check, fix, split
from edi837.engine import Engine, FileResult
from edi837.findings import Finding, Severity
from edi837.ops.cutting import Layout, scan
from edi837.ops.ledger import CLAIM, CONTROL, Ledger
from edi837.ops.outcome import (
    DONE,
    DUPLICATE,
    ERROR,
    SKIPPED,
    ClaimRow,
    Interchange,
    Outcome,
    severity_counts,
)
from edi837.reports.json_report import document
from edi837.source import Source
from edi837.x12.reader import X12SyntaxError
from edi837.x12.segment import Segment
from edi837.x12.writer import atomic_output
from edi837.x837p.model import Claim

__all__ = [
    "DEFAULT_OUTPUTS",
    "OUTPUTS",
    "Checked",
    "Outcome",
    "SplitPart",
    "check_source",
    "output_name",
    "process_file",
]

#: The outputs a run may ask for, and the default (what a clearinghouse forwards and returns).
OUTPUTS = frozenset({"report", "split", "fixed", "annotated"})
DEFAULT_OUTPUTS = frozenset({"report", "split"})


@dataclass
class Checked:
    """A file's check result with what the ledger needs besides the findings.

    Attributes:
        result: the findings and counts, exactly as :func:`edi837.api.check` gives them.
        claim_rows: one row per claim in file order.
        interchanges: the envelopes seen while reading (when collected).
        segments: segments read (to renumber the findings of a later piece of a cut file).
    """

    result: FileResult
    claim_rows: list[ClaimRow] = field(default_factory=list)
    interchanges: list[Interchange] = field(default_factory=list)
    segments: int = 0


@dataclass
class SplitPart:
    """The split of one piece of a cut file, to be joined with the others in file order.

    ``accepted`` and ``rejected`` are the piece's outputs (``None`` when no claim went
    there); ``rejected_claims`` says, claim by claim, where each went. Each piece is whole
    interchanges, and the split writes every interchange on its own, so the pieces' outputs
    one after another are the split of the whole file.
    """

    accepted: Path | None
    rejected: Path | None
    rejected_claims: list[bool] = field(default_factory=list)


class _Envelopes:
    """Collects ISA and GS envelopes as segments stream past (for files not pre-scanned)."""

    def __init__(self) -> None:
        self.items: list[Interchange] = []
        self._isa: Segment | None = None
        self._groups: list[str] = []

    def __call__(self, seg: Segment) -> None:
        if seg.id == "ISA":
            self._flush()
            self._isa = seg
        elif seg.id == "GS" and self._isa is not None:
            self._groups.append(seg.element(6).strip())

    def _flush(self) -> None:
        isa = self._isa
        if isa is not None:
            self.items.append(
                Interchange(
                    sender=f"{isa.element(5).strip()}:{isa.element(6).strip()}",
                    receiver=f"{isa.element(7).strip()}:{isa.element(8).strip()}",
                    control=isa.element(13).strip(),
                    date=isa.element(9).strip(),
                    groups=tuple(self._groups),
                )
            )
        self._isa = None
        self._groups = []

    def finish(self) -> list[Interchange]:
        self._flush()
        return self.items


def check_source(
    src: Source,
    engine: Engine,
    *,
    fail_on: Severity = Severity.REJECT,
    detail: bool = False,
    envelopes: bool = False,
) -> Checked:
    """Check ``src`` with :func:`edi837.api.check`, keeping a row per claim.

    A claim's row is ``rejected`` when one of its own findings is at or above ``fail_on``
    (the split may reject more: a finding on its billing provider or envelope rejects every
    claim under it; :func:`process_file` takes the split's decision when it splits).
    """
    collector = _Envelopes() if envelopes else None
    rows: list[ClaimRow] = []

    def on_claim(claim: Claim, findings: list[Finding]) -> None:
        profile = engine.profile_for(claim).value
        charge = claim.clm.element(2)
        rows.append(_claim_row(len(rows), claim.id, charge, profile, findings, fail_on))

    result = check(src, engine=engine, detail=detail, on_claim=on_claim, observe=collector)
    interchanges = collector.finish() if collector is not None else []
    return Checked(result, rows, interchanges, result.segments)


def _claim_row(
    ordinal: int,
    claim_id: str,
    charge: str,
    profile: str,
    findings: list[Finding],
    fail_on: Severity,
) -> ClaimRow:
    counts = {s: 0 for s in Severity}
    rejected = False
    for finding in findings:
        counts[finding.severity] += 1
        if finding.claim is not None and finding.severity.at_least(fail_on):
            rejected = True
    return ClaimRow(
        ordinal=ordinal,
        claim_id=claim_id,
        charge=charge,
        profile=profile,
        status="rejected" if rejected else "accepted",
        reject=counts[Severity.REJECT],
        deny_risk=counts[Severity.DENY_RISK],
        warning=counts[Severity.WARNING],
    )


def output_name(path: Path) -> str:
    """The default base name of a file's outputs: its name without the last extension."""
    return Path(path).stem or Path(path).name


def process_file(
    path: Path,
    outdir: Path,
    *,
    engine: Engine,
    ledger: Ledger,
    outputs: frozenset[str] = DEFAULT_OUTPUTS,
    force: bool = False,
    fail_on: Severity = Severity.REJECT,
    name: str | None = None,
    detail: bool = False,
    layout: Layout | None = None,
    checked: Checked | None = None,
    split_parts: list[SplitPart] | None = None,
    acks: tuple[str, ...] = (),
) -> Outcome:
    """Check one file, write its outputs to ``outdir`` and record it in ``ledger``.

    ``outputs`` picks from ``report`` (``NAME.report.json``, the ``check -f json`` document
    of this file), ``split`` (``NAME.accepted.837`` / ``NAME.rejected.837``), ``fixed``
    (``NAME.fixed.837``) and ``annotated`` (``NAME.annotated.txt``); ``name`` defaults to the
    file name without its extension. ``detail`` keeps claim views in the result (for the
    HTML report); ``layout`` and ``checked`` pass in a scan and a check already made (the
    batch checks the pieces of a large file in parallel), and ``split_parts`` the split of
    those pieces, joined here into the file's outputs. ``acks`` names the acknowledgement
    types to write (``ta1``, ``999``, ``277ca``; those that apply), numbered from the
    ledger's counters. Never raises for bad input: an unreadable file is an outcome with
    status ``error``, and gets its report but no acknowledgement.
    """
    started = time.perf_counter()
    path = Path(path)
    name = name or output_name(path)
    unknown = set(outputs) - OUTPUTS
    if unknown:
        raise OptionsError(f"unknown output {sorted(unknown)[0]!r}; choose from {sorted(OUTPUTS)}")
    if layout is None:
        try:
            layout = scan(path)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            return Outcome(ERROR, "", path, name, error=f"{path}: cannot read the file: {reason}")
    sha = layout.sha256
    previous = ledger.file_row(sha)
    if previous is not None and previous["status"] == DONE and not force:
        if previous["path"] == os.path.abspath(path):
            return _skipped(path, name, layout, previous, started)
        return _duplicate(
            ledger, path, name, layout, Path(previous["path"]).name, layout.interchanges, started
        )
    if layout.interchanges is not None:
        first = ledger.duplicate_of(layout.interchanges, sha256=sha)
        if first is not None:
            return _duplicate(ledger, path, name, layout, first, layout.interchanges, started)
    ledger.begin_file(sha, path, layout.size)
    outdir.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(outdir, name)
    if checked is None:
        checked = check_source(
            Source(path, str(path)),
            engine,
            fail_on=fail_on,
            detail=detail,
            envelopes=layout.interchanges is None,
        )
    interchanges = layout.interchanges if layout.interchanges is not None else checked.interchanges
    if layout.interchanges is None:
        first = ledger.duplicate_of(interchanges, sha256=sha)
        if first is not None:
            return _duplicate(ledger, path, name, layout, first, interchanges, started)
    result = checked.result
    by_severity, codes = severity_counts(result)
    outcome = Outcome(
        DONE if result.status != "error" else ERROR,
        sha,
        path,
        name,
        size=layout.size,
        claims=result.claims,
        transactions=result.transactions,
        service_lines=result.service_lines,
        findings_by_severity=by_severity,
        codes=codes,
        error=safe_error(result.error),
        interchanges=list(interchanges),
        claim_rows=list(checked.claim_rows),
        result=result,
    )
    try:
        _write_outputs(path, outdir, name, outputs, engine, fail_on, outcome, split_parts)
        if acks and outcome.status != ERROR:
            _write_acks(path, outdir, name, acks, engine, fail_on, ledger, outcome)
    except (X12SyntaxError, OptionsError, OSError, DelimiterClash) as exc:
        outcome.status = ERROR
        outcome.error = safe_error(_one_line(exc, path))
    outcome.seconds = time.perf_counter() - started
    ledger.finish_file(outcome)
    return outcome


def _write_outputs(
    path: Path,
    outdir: Path,
    name: str,
    outputs: frozenset[str],
    engine: Engine,
    fail_on: Severity,
    outcome: Outcome,
    split_parts: list[SplitPart] | None,
) -> None:
    result = outcome.result
    assert result is not None
    if "report" in outputs:
        target = outdir / f"{name}.report.json"
        text = json.dumps(document([result]), indent=2) + "\n"
        with atomic_output(target) as handle:
            handle.write(text.encode("utf-8"))
        outcome.outputs.append(target)
    if result.status == "error":
        # An unreadable file gets its report (which says why) and nothing else.
        return
    if "split" in outputs and split_parts is not None:
        _join_split(path, outdir, name, split_parts, outcome)
    elif "split" in outputs:
        routed = split(path, outdir, name=name, fail_on=fail_on, engine=engine)
        for target in (routed.accepted_path, routed.rejected_path):
            if target.exists():
                outcome.outputs.append(target)
        plan = routed.plan
        if plan.claims == len(outcome.claim_rows):
            # The split also rejects claims under a rejected level; the ledger says what it did.
            outcome.claim_rows = [
                _with_status(row, "rejected" if plan.rejected_at(row.ordinal) else "accepted")
                for row in outcome.claim_rows
            ]
    if "fixed" in outputs:
        target = outdir / f"{name}.fixed.837"
        fix(path, target, engine=engine)
        outcome.outputs.append(target)
    if "annotated" in outputs:
        target = outdir / f"{name}.annotated.txt"
        annotate(path, target, engine=engine)
        outcome.outputs.append(target)


def _write_acks(
    path: Path,
    outdir: Path,
    name: str,
    types: tuple[str, ...],
    engine: Engine,
    fail_on: Severity,
    ledger: Ledger,
    outcome: Outcome,
) -> None:
    """Write the file's acknowledgements, numbered from the ledger, and note the claims' numbers.

    They are built from the whole file, also when the batch checked it in pieces: a piece
    holds no functional group of another, but the numbering and the split's decisions are
    the file's.
    """
    numbered = "277ca" in types

    def reserve(intake: Intake) -> Numbers:
        # Reserved (and committed) before anything is built: two workers or two watchers
        # sharing the ledger never get the same numbers.
        claims = accepted_claims(intake) if numbered else []
        first = ledger.reserve({CONTROL: control_numbers_needed(intake), CLAIM: len(claims)})
        return Numbers(
            ControlNumbers(first[CONTROL]),
            {ordinal: str(first[CLAIM] + n) for n, ordinal in enumerate(claims)},
        )

    built = build_acks(
        Source(path, str(path)), engine=engine, types=types, fail_on=fail_on, reserve=reserve
    )
    targets = output_paths(outdir, name)
    for kind, target in targets.items():
        data = built.files.get(kind)
        if data is None:
            if kind in types:
                # A type asked for that does not apply now must not linger from a former run.
                target.unlink(missing_ok=True)
            continue
        with atomic_output(target) as handle:
            handle.write(data)
        outcome.outputs.append(target)
    intake = built.intake
    records = claims_of(intake) if intake is not None else []
    if len(records) == len(outcome.claim_rows):
        # The acknowledgements decide as the split does; the ledger keeps the number each
        # accepted claim was acknowledged under.
        outcome.claim_rows = [
            replace(
                row,
                status="rejected" if record.rejected else "accepted",
                payer_control=record.payer_control or None,
            )
            for row, record in zip(outcome.claim_rows, records, strict=True)
        ]


def _join_split(
    path: Path, outdir: Path, name: str, parts: list[SplitPart], outcome: Outcome
) -> None:
    """Publish the pieces' split outputs, one after another, as the file's own."""
    # Outputs carry claims: they get the input's permission bits, as the split gives them.
    mode = path.stat().st_mode & 0o7777
    for kind in ("accepted", "rejected"):
        target = outdir / f"{name}.{kind}.837"
        present = [getattr(part, kind) for part in parts if getattr(part, kind) is not None]
        if not present:
            # An output of an earlier run that this one would not write must not linger.
            target.unlink(missing_ok=True)
            continue
        with atomic_output(target, mode) as out:
            for piece in present:
                with open(piece, "rb") as data:
                    shutil.copyfileobj(data, out, 1 << 20)
        outcome.outputs.append(target)
    routes = [rejected for part in parts for rejected in part.rejected_claims]
    if len(routes) == len(outcome.claim_rows):
        outcome.claim_rows = [
            _with_status(row, "rejected" if rejected else "accepted")
            for row, rejected in zip(outcome.claim_rows, routes, strict=True)
        ]


def _with_status(row: ClaimRow, status: str) -> ClaimRow:
    return row if row.status == status else replace(row, status=status)


def _remove_leftovers(outdir: Path, name: str) -> None:
    """Remove temporary outputs of ``name`` that a killed run left (hidden, never published)."""
    prefix = f".{name}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(outdir):
            if entry.name.startswith(prefix) and (
                entry.name.endswith(".tmp") or ".edi837-tmp-" in entry.name
            ):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


#: The reader quotes the first bytes of a file that does not start with ISA; in a file that is
#: not X12 at all those may be anything (a name, a member id), so logs carry no quote of them.
_QUOTED_START = re.compile(r" \(found '(?:[^'\\]|\\.)*'\)| \(found \"(?:[^\"\\]|\\.)*\"\)")


def safe_error(message: str | None) -> str | None:
    """``message`` on one line without quoted file content, fit for logs and the ledger."""
    if message is None:
        return None
    return _QUOTED_START.sub(" (found other data)", message).splitlines()[0] if message else message


def _one_line(exc: Exception, path: Path) -> str:
    if isinstance(exc, X12SyntaxError):
        return exc.describe(str(path))
    if isinstance(exc, OSError):
        where = exc.filename or path
        return f"{where}: {exc.strerror or type(exc).__name__}"
    return f"{path}: {exc}".splitlines()[0]


def _skipped(
    path: Path, name: str, layout: Layout, previous: dict[str, object], started: float
) -> Outcome:
    outputs = previous.get("outputs")
    codes = previous.get("codes")
    return Outcome(
        SKIPPED,
        layout.sha256,
        path,
        name,
        size=layout.size,
        claims=int(str(previous.get("claims") or 0)),
        findings_by_severity={
            "reject": int(str(previous.get("reject") or 0)),
            "deny-risk": int(str(previous.get("deny_risk") or 0)),
            "warning": int(str(previous.get("warning") or 0)),
        },
        codes=dict(codes) if isinstance(codes, dict) else {},
        outputs=[Path(p) for p in outputs] if isinstance(outputs, list) else [],
        interchanges=list(layout.interchanges or []),
        seconds=time.perf_counter() - started,
    )


def _duplicate(
    ledger: Ledger,
    path: Path,
    name: str,
    layout: Layout,
    first: str,
    interchanges: list[Interchange] | None,
    started: float,
) -> Outcome:
    outcome = Outcome(
        DUPLICATE,
        layout.sha256,
        path,
        name,
        size=layout.size,
        duplicate_of=first,
        error=f"{path}: duplicate of {first} (same content or same sender and ISA13)",
        interchanges=list(interchanges or []),
        findings_by_severity={s.value: 0 for s in Severity},
        seconds=time.perf_counter() - started,
    )
    ledger.finish_file(outcome)
    return outcome
