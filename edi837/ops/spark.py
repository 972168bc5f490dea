"""Checking 837P files on Apache Spark: the same engine as ``edi837 check``, on a cluster.

Owns everything that touches pyspark (the only module that imports it; install
``edi837[spark]``):

- :func:`check_files`: a DataFrame of the JSON contract's findings, one row per finding plus
  ``path``, ``file_status`` and ``error``, and one row with null finding columns for each
  file that has no finding (clean and unreadable files stay visible);
- :func:`claims`: one row per service line, the table analysts query;
- :func:`run_batch`: both tables as Parquet plus the ``batch.json`` summary.

Spark lists the files with its ``binaryFile`` source selecting only ``path`` and ``length``,
so the content column is never read by Spark and its 2 GB binary-column limit never applies.
Each task opens and streams its files itself, one at a time, with the streaming reader: the
memory of a task is one claim plus read buffers, whatever the file size. Bad input is a row,
never a failed task, and an error row carries the engine's one-line reason, never file content
(837 files hold patient data).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from edi837 import api
from edi837.engine import Engine, FileResult
from edi837.findings import Severity
from edi837.rules.base import CheckContext
from edi837.x12.writer import atomic_output
from edi837.x837p.model import Claim

#: Files larger than this become an error row instead of being read. Streaming keeps memory
#: flat, so the limit is about run time per task, not memory; raise it with the setting
#: ``max_file_bytes``.
DEFAULT_MAX_FILE_BYTES = 8 << 30

#: Rows per Arrow batch handed back to Spark: bounds a task's memory when one file has a
#: great many findings or service lines.
BATCH_ROWS = 10_000

#: The finding object of ``check -f json`` (architecture.md §3), with ``fix`` flattened.
FINDING_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("code", pa.string()),
    ("severity", pa.string()),
    ("message", pa.string()),
    ("interchange", pa.string()),
    ("transaction", pa.string()),
    ("claim", pa.string()),
    ("line", pa.int64()),
    ("loop", pa.string()),
    ("segment", pa.string()),
    ("segment_number", pa.int64()),
    ("byte_offset", pa.int64()),
    ("element", pa.string()),
    ("fix_applicability", pa.string()),
    ("fix_description", pa.string()),
)
FILE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("path", pa.string()),
    ("file_status", pa.string()),
    ("error", pa.string()),
)
#: Per-file counts carried on every row of the internal frame, for the batch summary.
COUNT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("interchanges", pa.int64()),
    ("transactions", pa.int64()),
    ("claims", pa.int64()),
    ("service_lines", pa.int64()),
)
CHECK_COLUMNS = [name for name, _ in FILE_COLUMNS + FINDING_COLUMNS]
_CHECKED_SCHEMA = pa.schema(FILE_COLUMNS + FINDING_COLUMNS + COUNT_COLUMNS)

CLAIM_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("path", pa.string()),
    ("file_status", pa.string()),
    ("error", pa.string()),
    ("interchange", pa.string()),
    ("transaction", pa.string()),
    ("claim", pa.string()),
    ("payer_id", pa.string()),
    ("profile", pa.string()),
    ("line", pa.int64()),
    ("procedure", pa.string()),
    ("modifiers", pa.list_(pa.string())),
    ("units", pa.string()),
    ("unit_basis", pa.string()),
    ("charge", pa.string()),
    ("service_date", pa.date32()),
    ("ndc", pa.string()),
    ("drug_unit", pa.string()),
    ("drug_quantity", pa.string()),
    ("paired_line", pa.int64()),
)
_CLAIMS_SCHEMA = pa.schema(CLAIM_COLUMNS)

#: The settings :func:`check_files` understands; the engine's options as ``api.load_engine``
#: takes them, plus the size limit and the number of partitions.
ENGINE_SETTINGS = ("profile", "select", "ignore", "refdata", "config")


class SparkOptionsError(api.OptionsError):
    """Settings that name an unknown option or cannot build an engine."""


def _spark_schema(schema: pa.Schema) -> str:
    names = {pa.string(): "string", pa.int64(): "bigint", pa.date32(): "date"}
    parts = []
    for item in schema:
        if pa.types.is_list(item.type):
            kind = f"array<{names[item.type.value_type]}>"
        else:
            kind = names[item.type]
        parts.append(f"`{item.name}` {kind}")
    return ", ".join(parts)


# -- settings and engines -----------------------------------------------------------------------


def _clean_settings(settings: dict[str, object] | None) -> dict[str, object]:
    """Validate the settings on the driver, so a typo fails before any task starts."""
    settings = dict(settings or {})
    known = set(ENGINE_SETTINGS) | {"max_file_bytes", "partitions"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise SparkOptionsError(
            f"unknown Spark setting(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    limit = settings.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)
    if not isinstance(limit, int) or limit < 1:
        raise SparkOptionsError("max_file_bytes must be a positive number of bytes")
    settings["max_file_bytes"] = limit
    _engine_for(_engine_key(settings))  # raises OptionsError for a bad code or folder
    return settings


def _engine_key(settings: dict[str, object]) -> tuple[tuple[str, Any], ...]:
    key = []
    for name in ENGINE_SETTINGS:
        value = settings.get(name)
        if isinstance(value, list | tuple):
            value = tuple(str(v) for v in value)
        elif value is not None:
            value = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        key.append((name, value))
    return tuple(key)


_ENGINES: dict[tuple[tuple[str, Any], ...], Engine] = {}


def _engine_for(key: tuple[tuple[str, Any], ...]) -> Engine:
    """The engine for these settings, built once per Python process.

    The reference tables are then read once per executor worker, not once per file.
    """
    engine = _ENGINES.get(key)
    if engine is None:
        options = dict(key)
        engine = api.load_engine(
            profile=options["profile"],
            select=list(options["select"]) if options["select"] is not None else None,
            ignore=list(options["ignore"]) if options["ignore"] is not None else None,
            refdata=options["refdata"],
            config=options["config"],
        )
        _ENGINES[key] = engine
    return engine


# -- listing ------------------------------------------------------------------------------------


def _listing(spark: SparkSession, paths: Sequence[str], settings: dict[str, object]) -> DataFrame:
    """``path`` and ``length`` of every file under ``paths``; the bytes are never read here."""
    listing = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        # Landing folders change under a running job: a file moved away between listing and
        # reading has nothing left to check, and must not fail the other files' tasks.
        .option("ignoreMissingFiles", "true")
        .load([_literal(p) for p in paths])
        .select("path", "length")
    )
    # The listing's partitions follow Spark's split planning (many small files per task); an
    # even spread over a few tasks per core keeps every core busy when files differ in size.
    partitions = settings.get("partitions")
    if not isinstance(partitions, int) or partitions < 1:
        partitions = max(1, spark.sparkContext.defaultParallelism * 2)
    return listing.repartition(partitions)


_GLOB = re.compile(r"([\\*?\[\]{}])")


def _literal(path: str) -> str:
    """An existing local file or folder as Spark must be given it: its name, not a pattern.

    Hadoop reads ``*?[]{}`` in a path as a glob, so a file named ``claims[1].837`` would not be
    found; other paths (globs, ``hdfs:``, ``s3:`` …) are passed on as they are.
    """
    local = local_path(path)
    if local is None or not os.path.exists(local):
        return path
    return _GLOB.sub(r"\\\1", path)


def local_path(uri: str) -> str | None:
    """The local file behind a Spark path (``file:/a/b`` → ``/a/b``).

    ``None`` for other schemes (``hdfs:``, ``s3:`` …).
    """
    if uri.startswith("file://"):
        return uri[len("file://") :] or None
    if uri.startswith("file:"):
        return uri[len("file:") :] or None
    if "://" not in uri.split("/", 1)[0] and ":" not in uri.split("/", 1)[0]:
        return uri
    return None


def _too_large(path: str, length: int, limit: int) -> str | None:
    if length <= limit:
        return None
    return (
        f"{path}: {length:,} bytes is over the Spark batch limit of {limit:,} bytes "
        "(setting max_file_bytes); split the file or raise the limit"
    )


# -- checking -----------------------------------------------------------------------------------


def check_one(path: str, length: int, settings: dict[str, object]) -> FileResult:
    """Check one listed file inside a task; never raises for bad input."""
    name = local_path(path) or path
    limit = settings.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)
    assert isinstance(limit, int)
    reason = _too_large(name, length, limit)
    if reason is not None:
        return FileResult(path=name, status="error", error=reason)
    engine = _engine_for(_engine_key(settings))
    local = local_path(path)
    if local is not None:
        return api.check(local, engine=engine, name=name)
    return _check_remote(path, engine)


def _check_remote(uri: str, engine: Engine) -> FileResult:
    """Object stores (``s3://``, ``abfss://`` …) through fsspec when it is installed."""
    try:
        import fsspec  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return FileResult(
            path=uri,
            status="error",
            error=f"{uri}: not a local file; install fsspec and its driver for this scheme",
        )
    try:
        with fsspec.open(uri, "rb") as stream:
            return api.check(stream, engine=engine, name=uri)
    except OSError as exc:
        return FileResult(path=uri, status="error", error=f"{uri}: cannot open ({exc.strerror})")


def _rows_of(result: FileResult) -> Iterator[dict[str, object]]:
    counts = {
        "interchanges": result.interchanges,
        "transactions": result.transactions,
        "claims": result.claims,
        "service_lines": result.service_lines,
    }
    base = {"path": result.path, "file_status": result.status, "error": result.error}
    if not result.findings:
        yield {**base, **counts}
        return
    for finding in result.findings:
        row = finding.to_dict()
        fix = row.pop("fix")
        row["fix_applicability"] = fix["applicability"] if fix else None
        row["fix_description"] = fix["description"] if fix else None
        yield {**base, **row, **counts}


def _batches(rows: Iterable[dict[str, object]], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    pending: list[dict[str, object]] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= BATCH_ROWS:
            yield pa.RecordBatch.from_pylist(pending, schema=schema)
            pending = []
    if pending:
        yield pa.RecordBatch.from_pylist(pending, schema=schema)


def _listed(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[str, int]]:
    for batch in batches:
        for path, length in zip(
            batch.column("path").to_pylist(), batch.column("length").to_pylist(), strict=True
        ):
            yield str(path), int(length)


def _checked(spark: SparkSession, paths: Sequence[str], settings: dict[str, object]) -> DataFrame:
    """Findings with the per-file counts (the batch summary adds them up)."""
    shared = spark.sparkContext.broadcast(settings)
    schema = _CHECKED_SCHEMA

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        options = shared.value

        def rows() -> Iterator[dict[str, object]]:
            for path, length in _listed(batches):
                yield from _rows_of(check_one(path, length, options))

        yield from _batches(rows(), schema)

    return _listing(spark, paths, settings).mapInArrow(task, _spark_schema(schema))


def check_files(
    spark: SparkSession,
    paths: Sequence[str],
    *,
    settings: dict[str, object] | None = None,
) -> DataFrame:
    """The findings of every file under ``paths`` (files, folders or globs Spark can list).

    Columns: ``path``, ``file_status`` (``ok``, ``findings`` or ``error``), ``error`` (the
    one-line reason), then the JSON contract's finding with ``fix`` flattened into
    ``fix_applicability`` and ``fix_description``. A file with no finding has one row with
    null finding columns. ``settings``: ``profile``, ``select``, ``ignore``, ``refdata``,
    ``config`` (as for ``edi837 check``), ``max_file_bytes`` (default 8 GiB; a larger file is
    an error row naming the limit) and ``partitions``. Raises :class:`api.OptionsError` for
    settings that cannot build an engine.
    """
    return _checked(spark, paths, _clean_settings(settings)).select(*CHECK_COLUMNS)


# -- claims -------------------------------------------------------------------------------------


def _decimal_text(value: object) -> str | None:
    # Charges and units stay decimal text: a float would turn 12.10 into 12.099999….
    return None if value is None else str(value)


def claim_rows(claim: Claim, engine: Engine, path: str) -> Iterator[dict[str, object]]:
    """One row per service line of a claim."""
    profile = engine.profile_for(claim)
    # The same pairing the rules use: a drug line belongs to the administration (96372 or
    # another) of its encounter that gave it, so analysts see the pair the findings speak of.
    context = CheckContext(claim, profile, engine.settings, engine.refdata)
    given_by = {
        id(drug): pair.injection.number
        for pair in context.pairing.administrations
        for drug in pair.drugs
    }
    base = {
        "path": path,
        "file_status": "ok",
        "error": None,
        "interchange": claim.envelope.interchange,
        "transaction": claim.envelope.transaction,
        "claim": claim.id,
        "payer_id": claim.payer_id or None,
        "profile": profile.value,
    }
    for line in claim.lines:
        drug = line.drug
        yield {
            **base,
            "line": line.number,
            "procedure": line.code or None,
            "modifiers": list(line.modifiers),
            "units": _decimal_text(line.units),
            "unit_basis": line.unit_basis or None,
            "charge": _decimal_text(line.charge),
            "service_date": line.service_date,
            "ndc": (drug.ndc or None) if drug else None,
            "drug_unit": (drug.unit or None) if drug else None,
            "drug_quantity": _decimal_text(drug.quantity) if drug else None,
            "paired_line": given_by.get(id(line)),
        }


def _claims_of_file(
    path: str, length: int, settings: dict[str, object]
) -> Iterator[dict[str, object]]:
    name = local_path(path) or path
    limit = settings.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)
    assert isinstance(limit, int)
    reason = _too_large(name, length, limit)
    if reason is None and local_path(path) is None:
        reason = f"{name}: not a local file; the claims table reads local files only"
    if reason is not None:
        yield {"path": name, "file_status": "error", "error": reason}
        return
    engine = _engine_for(_engine_key(settings))
    try:
        for claim in api.claims(name):
            yield from claim_rows(claim, engine, name)
    except api.X12SyntaxError as exc:
        yield {"path": name, "file_status": "error", "error": exc.describe(name)}


def claims(
    spark: SparkSession,
    paths: Sequence[str],
    *,
    settings: dict[str, object] | None = None,
) -> DataFrame:
    """One row per service line of every claim under ``paths``: the table analysts query.

    Claim id, payer id and profile, procedure code and modifiers, units, charge, service
    date, the NDC, unit and quantity of the line's drug (2410), and for a drug line the LX01
    of the administration line (96372 …) the rules pair it with. Decimals are kept as their
    text. A file that cannot be read is one row with ``file_status`` ``error`` and the
    reason.
    """
    options = _clean_settings(settings)
    shared = spark.sparkContext.broadcast(options)
    schema = _CLAIMS_SCHEMA

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        current = shared.value

        def rows() -> Iterator[dict[str, object]]:
            for path, length in _listed(batches):
                yield from _claims_of_file(path, length, current)

        yield from _batches(rows(), schema)

    return _listing(spark, paths, options).mapInArrow(task, _spark_schema(schema))


# -- batch --------------------------------------------------------------------------------------


def input_files(inputs: Sequence[str]) -> list[str]:
    """The files named by ``inputs``.

    A folder is walked (hidden files skipped, sorted); a URI with a scheme other than
    ``file:`` is passed on for Spark to list.
    """
    found: list[str] = []
    for item in inputs:
        local = local_path(item)
        if local is None:
            found.append(item)
            continue
        path = Path(local)
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [
                    os.path.abspath(Path(folder, f)) for f in sorted(files) if not f.startswith(".")
                ]
        elif path.exists():
            found.append(os.path.abspath(path))
        else:
            raise api.OptionsError(f"{item}: no such file or folder")
    return found


def session(master: str, app_name: str = "edi837") -> SparkSession:
    """A Spark session for a batch run: no UI, few shuffle partitions, quiet logs."""
    # Local workers run the driver's interpreter, where edi837 and pyarrow are installed; on a
    # cluster PYSPARK_PYTHON (or the cluster's own setting) names the executors' interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def summarize(checked: DataFrame, seconds: float) -> dict[str, object]:
    """The ``batch.json`` summary from the internal findings frame."""
    per_file = checked.select("path", "file_status", *(n for n, _ in COUNT_COLUMNS)).distinct()
    totals = per_file.agg(
        F.count("path").alias("files"),
        F.coalesce(F.sum("claims"), F.lit(0)).alias("claims"),
        F.coalesce(F.sum("service_lines"), F.lit(0)).alias("service_lines"),
        F.sum(F.when(F.col("file_status") == "error", 1).otherwise(0)).alias("errors"),
    ).collect()[0]
    by_severity: Counter[str] = Counter()
    by_code: Counter[str] = Counter()
    for row in (
        checked.where(F.col("code").isNotNull()).groupBy("severity", "code").count().collect()
    ):
        by_severity[row["severity"]] += row["count"]
        by_code[row["code"]] += row["count"]
    claims_total = int(totals["claims"])
    return {
        "engine": "spark",
        "files": int(totals["files"]),
        "errors": int(totals["errors"] or 0),
        "claims": claims_total,
        "service_lines": int(totals["service_lines"]),
        "findings": {s.value: by_severity.get(s.value, 0) for s in Severity},
        "by_code": dict(sorted(by_code.items())),
        "seconds": round(seconds, 3),
        "claims_per_second": round(claims_total / seconds, 1) if seconds > 0 else None,
    }


def run_batch(
    inputs: list[str],
    outdir: Path,
    *,
    master: str,
    settings: dict[str, object],
) -> dict[str, object]:
    """Check every file under ``inputs`` on Spark; returns the ``batch.json`` summary.

    Writes ``OUTDIR/findings.parquet``, ``OUTDIR/claims.parquet`` and ``OUTDIR/batch.json``.

    Raises :class:`api.OptionsError` for a missing input or settings that cannot build an
    engine, before Spark starts.
    """
    options = _clean_settings(settings)
    files = input_files(inputs)
    if not files:
        raise api.OptionsError("no input files found")
    outdir.mkdir(parents=True, exist_ok=True)
    spark = session(master)
    started = time.perf_counter()
    checked = _checked(spark, files, options).cache()
    try:
        checked.select(*CHECK_COLUMNS).write.mode("overwrite").parquet(
            str(outdir / "findings.parquet")
        )
        claims(spark, files, settings=options).write.mode("overwrite").parquet(
            str(outdir / "claims.parquet")
        )
        summary = summarize(checked, time.perf_counter() - started)
    finally:
        checked.unpersist()
    with atomic_output(outdir / "batch.json") as handle:
        handle.write((json.dumps(summary, indent=2) + "\n").encode("utf-8"))
    return summary
