"""The SQLite ledger: which files were processed, their interchanges and claims.

One database (stdlib :mod:`sqlite3`) per output folder. It answers the questions an
unattended run must ask before touching a file (was this content already done? was this
interchange already received from another file?) and records the answer only after the
file's outputs are complete on disk, in one transaction, so a crash at any moment leaves
either the old state or the new one and a rerun repeats the work without doubling rows.

The schema is versioned (``PRAGMA user_version``); :data:`MIGRATIONS` are applied in order on
open, in place, in one transaction. Version 2 added the counters the acknowledgements number
themselves from (:meth:`Ledger.reserve`): ISA13/GS06 control numbers and payer claim control
numbers, reserved in blocks so that two processes sharing the ledger never get the same
number and a number once handed out is never handed out again, even after a crash.

WAL lets a reader (``edi837 ledger``) query while a batch writes; on a network file system,
where WAL's shared memory does not work, the ledger falls back to ``journal_mode=DELETE``.
Nothing here stores an element value of NM1, N3, N4, DMG, REF or PER.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from edi837.ops.outcome import DONE, DUPLICATE, IN_PROGRESS, SKIPPED, Interchange, Outcome

__all__ = ["CLAIM", "CONTROL", "MIGRATIONS", "Ledger", "LedgerError"]

#: Schema versions in order; ``MIGRATIONS[n]`` takes a database from version n to n + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE files (
        id            INTEGER PRIMARY KEY,
        sha256        TEXT NOT NULL,
        size          INTEGER NOT NULL,
        path          TEXT NOT NULL,
        first_seen    TEXT NOT NULL,
        finished      TEXT,
        status        TEXT NOT NULL
                      CHECK (status IN ('done', 'error', 'duplicate', 'in-progress')),
        interchanges  INTEGER NOT NULL DEFAULT 0,
        transactions  INTEGER NOT NULL DEFAULT 0,
        claims        INTEGER NOT NULL DEFAULT 0,
        service_lines INTEGER NOT NULL DEFAULT 0,
        reject        INTEGER NOT NULL DEFAULT 0,
        deny_risk     INTEGER NOT NULL DEFAULT 0,
        warning       INTEGER NOT NULL DEFAULT 0,
        codes         TEXT NOT NULL DEFAULT '{}',
        outputs       TEXT NOT NULL DEFAULT '[]',
        seconds       REAL NOT NULL DEFAULT 0,
        error         TEXT,
        duplicate_of  TEXT,
        UNIQUE (sha256, path)
    );
    CREATE TABLE interchanges (
        id          INTEGER PRIMARY KEY,
        file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        sender      TEXT NOT NULL,
        receiver    TEXT NOT NULL,
        control     TEXT NOT NULL,
        groups      TEXT NOT NULL DEFAULT '[]',
        date        TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX interchanges_key ON interchanges (sender, control);
    CREATE INDEX interchanges_file ON interchanges (file_id);
    CREATE TABLE claims (
        id          INTEGER PRIMARY KEY,
        file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        ordinal     INTEGER NOT NULL,
        claim_id    TEXT NOT NULL,
        charge      TEXT NOT NULL,
        profile     TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        reject      INTEGER NOT NULL DEFAULT 0,
        deny_risk   INTEGER NOT NULL DEFAULT 0,
        warning     INTEGER NOT NULL DEFAULT 0,
        UNIQUE (file_id, ordinal)
    );
    """,
    # 2: the acknowledgements' counters, and the payer claim control number of each claim
    # accepted into adjudication (the 277CA's REF*1K).
    """
    CREATE TABLE counters (
        name        TEXT PRIMARY KEY,
        next        INTEGER NOT NULL CHECK (next >= 1)
    );
    ALTER TABLE claims ADD COLUMN payer_control TEXT;
    CREATE UNIQUE INDEX claims_payer_control ON claims (payer_control)
        WHERE payer_control IS NOT NULL;
    """,
)

#: The counters of :meth:`Ledger.reserve`. ``control`` numbers ISA13 and GS06 of the
#: acknowledgements and wraps after nine digits, as ISA13 must; ``claim`` numbers the payer
#: claim control numbers and never wraps.
CONTROL = "control"
CLAIM = "claim"
_WRAP = {CONTROL: 999_999_999}

#: When one content was seen under several paths, the status that answers for it.
_STATUS_ORDER = (
    "CASE status WHEN 'done' THEN 0 WHEN 'in-progress' THEN 1 WHEN 'error' THEN 2 ELSE 3 END"
)

#: Network file systems on which SQLite's WAL shared-memory file cannot be trusted.
_NETWORK_FS = frozenset({"nfs", "nfs4", "cifs", "smbfs", "smb3", "fuse.sshfs", "9p", "afs"})


class LedgerError(Exception):
    """The ledger cannot be opened or is newer than this version of edi837 understands."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _on_network_fs(path: Path) -> bool:
    """True when ``path`` lives on a network mount (Linux ``/proc/mounts``; else False)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    target = os.path.realpath(path)
    best, best_type = "", ""
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, best_type = point, parts[2]
    return best_type in _NETWORK_FS


class Ledger:
    """The ledger at ``path`` (created with its folder when missing); a context manager.

    Args:
        path: the database file.
        match_receiver: also compare the receiver (ISA07/ISA08) when deciding that an
            interchange was already received (the stricter key of some clearinghouses).
    """

    def __init__(self, path: Path, *, match_receiver: bool = False) -> None:
        self.path = Path(path)
        self.match_receiver = match_receiver
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: every write below opens its own explicit transaction.
            self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"{self.path}: cannot open the ledger: {exc}") from None
        self._db.row_factory = sqlite3.Row
        try:
            self.journal_mode = self._journal_mode()
            self._db.execute("PRAGMA foreign_keys=ON")
            # FULL: a committed row survives a power cut, since the watcher archives the
            # original right after the commit.
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise LedgerError(f"{self.path}: not a usable ledger: {exc}") from None

    def _journal_mode(self) -> str:
        if not _on_network_fs(self.path.parent):
            try:
                row = self._db.execute("PRAGMA journal_mode=WAL").fetchone()
                if row is not None and str(row[0]).lower() == "wal":
                    return "wal"
            except sqlite3.OperationalError:
                pass
        row = self._db.execute("PRAGMA journal_mode=DELETE").fetchone()
        return str(row[0]).lower() if row is not None else "delete"

    def _migrate(self) -> None:
        with self._transaction():
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise LedgerError(
                    f"{self.path}: ledger schema version {version} is newer than this edi837 "
                    f"understands ({len(MIGRATIONS)}); upgrade edi837"
                )
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={number + 1}")

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two processes never both read, decide
        # and then collide on the write.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- context manager -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the questions asked before processing --------------------------------------------------

    def file_status(self, sha256: str) -> str | None:
        """``done``, ``error``, ``duplicate`` or ``in-progress`` for this content; None if new.

        Content seen under several paths answers with its best status (``done`` first).
        """
        row = self.file_row(sha256)
        return None if row is None else str(row["status"])

    def file_row(self, sha256: str) -> dict[str, Any] | None:
        """The ``files`` row of this content (the ``done`` one first), as a dict."""
        row = self._db.execute(
            f"SELECT * FROM files WHERE sha256 = ? ORDER BY {_STATUS_ORDER}, id LIMIT 1", (sha256,)
        ).fetchone()
        return None if row is None else _file_dict(row)

    def duplicate_of(
        self, interchanges: Iterable[Interchange], *, sha256: str | None = None
    ) -> str | None:
        """The name of the file from which one of ``interchanges`` was already processed.

        An interchange is a duplicate when an interchange with the same sender (ISA05/ISA06)
        and ISA13 (and receiver, with ``match_receiver``) came in a ``done`` file with other
        content: a resubmission under the same control number, which a payer rejects (TA1
        code 025). ``sha256`` excludes the file itself (a forced rerun is not a duplicate).
        """
        for interchange in interchanges:
            query = (
                "SELECT f.path FROM interchanges i JOIN files f ON f.id = i.file_id "
                "WHERE i.sender = ? AND i.control = ? AND f.status = 'done' AND f.sha256 != ?"
            )
            params: list[str] = [interchange.sender, interchange.control, sha256 or ""]
            if self.match_receiver:
                query += " AND i.receiver = ?"
                params.append(interchange.receiver)
            row = self._db.execute(query + " ORDER BY f.finished, f.id LIMIT 1", params).fetchone()
            if row is not None:
                return Path(str(row["path"])).name
        return None

    def in_progress(self) -> list[dict[str, Any]]:
        """Files begun and not finished: what a crash interrupted."""
        rows = self._db.execute(
            "SELECT * FROM files WHERE status = 'in-progress' ORDER BY first_seen, id"
        )
        return [_file_dict(r) for r in rows]

    def claim_numbers(self, sha256: str) -> dict[int, str]:
        """The payer claim control numbers of the ``done`` file with this content, by ordinal."""
        row = self.file_row(sha256)
        if row is None or row["status"] != DONE:
            return {}
        found = self._db.execute(
            "SELECT ordinal, payer_control FROM claims "
            "WHERE file_id = ? AND payer_control IS NOT NULL",
            (row["id"],),
        )
        return {int(r["ordinal"]): str(r["payer_control"]) for r in found}

    # -- recording ------------------------------------------------------------------------------

    def reserve(self, counts: dict[str, int]) -> dict[str, int]:
        """Reserve ``counts[name]`` consecutive numbers of each counter; return the first ones.

        One ``BEGIN IMMEDIATE`` transaction takes the write lock before reading, so two
        processes never get overlapping blocks, and the counter moves on at once: a block
        is never handed out again, even when the process dies before using it (X12 allows
        gaps in control numbers, never repeats). A counter starts at 1; ``control`` wraps
        after 999999999 (the numbers of a block then go on from 1, as ISA13 does).
        """
        first: dict[str, int] = {}
        with self._transaction() as db:
            for name, count in counts.items():
                if count < 0:
                    raise ValueError(f"cannot reserve {count} numbers")
                row = db.execute("SELECT next FROM counters WHERE name = ?", (name,)).fetchone()
                start = int(row[0]) if row is not None else 1
                wrap = _WRAP.get(name)
                after = start + count
                if wrap is not None:
                    after = (start - 1 + count) % wrap + 1
                db.execute(
                    "INSERT INTO counters (name, next) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET next = excluded.next",
                    (name, after),
                )
                first[name] = start
        return first

    def begin_file(self, sha256: str, path: Path | str, size: int) -> None:
        """Mark this content at this path ``in-progress`` (keeping when it was first seen).

        Paths are recorded absolute: the same file named two ways is one row.
        """
        with self._transaction() as db:
            db.execute(
                "INSERT INTO files (sha256, size, path, first_seen, status) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (sha256, path) DO UPDATE SET status = excluded.status, "
                "size = excluded.size",
                (sha256, size, _absolute(path), _now(), IN_PROGRESS),
            )

    def finish_file(self, outcome: Outcome) -> None:
        """Record the outcome: the files row, its interchanges and claims, in one transaction.

        Call it only once the outputs it names are complete on disk. The file's earlier
        interchange and claim rows are replaced, so recording it again never doubles them.
        A ``skipped`` outcome changes nothing.
        """
        if outcome.status == SKIPPED:
            return
        by_severity = outcome.findings_by_severity
        counts = outcome.result
        with self._transaction() as db:
            db.execute(
                "INSERT INTO files (sha256, size, path, first_seen, finished, status, "
                "interchanges, transactions, claims, service_lines, reject, deny_risk, warning, "
                "codes, outputs, seconds, error, duplicate_of) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (sha256, path) DO UPDATE SET size = excluded.size, "
                "finished = excluded.finished, status = excluded.status, "
                "interchanges = excluded.interchanges, transactions = excluded.transactions, "
                "claims = excluded.claims, service_lines = excluded.service_lines, "
                "reject = excluded.reject, deny_risk = excluded.deny_risk, "
                "warning = excluded.warning, codes = excluded.codes, "
                "outputs = excluded.outputs, seconds = excluded.seconds, "
                "error = excluded.error, duplicate_of = excluded.duplicate_of",
                (
                    outcome.sha256,
                    outcome.size,
                    _absolute(outcome.path),
                    _now(),
                    _now(),
                    outcome.status,
                    counts.interchanges if counts is not None else len(outcome.interchanges),
                    outcome.transactions,
                    outcome.claims,
                    outcome.service_lines,
                    by_severity.get("reject", 0),
                    by_severity.get("deny-risk", 0),
                    by_severity.get("warning", 0),
                    json.dumps(outcome.codes, sort_keys=True),
                    json.dumps([os.fspath(p) for p in outcome.outputs]),
                    outcome.seconds,
                    outcome.error,
                    outcome.duplicate_of,
                ),
            )
            file_id = db.execute(
                "SELECT id FROM files WHERE sha256 = ? AND path = ?",
                (outcome.sha256, _absolute(outcome.path)),
            ).fetchone()[0]
            db.execute("DELETE FROM interchanges WHERE file_id = ?", (file_id,))
            db.execute("DELETE FROM claims WHERE file_id = ?", (file_id,))
            if outcome.status == DUPLICATE:
                # Not processed: its interchanges must not make later files duplicates of it.
                return
            db.executemany(
                "INSERT INTO interchanges (file_id, sender, receiver, control, groups, date) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        file_id,
                        i.sender,
                        i.receiver,
                        i.control,
                        json.dumps(list(i.groups)),
                        i.date,
                    )
                    for i in outcome.interchanges
                ],
            )
            if outcome.status == DONE:
                db.executemany(
                    "INSERT INTO claims (file_id, ordinal, claim_id, charge, profile, status, "
                    "reject, deny_risk, warning, payer_control) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            file_id,
                            c.ordinal,
                            c.claim_id,
                            c.charge,
                            c.profile,
                            c.status,
                            c.reject,
                            c.deny_risk,
                            c.warning,
                            c.payer_control,
                        )
                        for c in outcome.claim_rows
                    ],
                )

    # -- queries (edi837 ledger) -----------------------------------------------------------------

    def files(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every file, first seen first (only those with ``status`` when given)."""
        query = "SELECT * FROM files"
        params: tuple[str, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            params = (status,)
        rows = self._db.execute(query + " ORDER BY first_seen, id", params)
        return [_file_dict(r) for r in rows]

    def claims(self, sha256: str | None = None) -> list[dict[str, Any]]:
        """Every claim with its file's path, in file and claim order."""
        query = (
            "SELECT f.path AS file, c.ordinal, c.claim_id, c.charge, c.profile, c.status, "
            "c.reject, c.deny_risk, c.warning, c.payer_control FROM claims c "
            "JOIN files f ON f.id = c.file_id"
        )
        params: tuple[str, ...] = ()
        if sha256 is not None:
            query += " WHERE f.sha256 = ?"
            params = (sha256,)
        rows = self._db.execute(query + " ORDER BY f.first_seen, f.id, c.ordinal", params)
        return [dict(r) for r in rows]

    def interchanges(self, sha256: str | None = None) -> list[dict[str, Any]]:
        """Every recorded interchange with its file's path."""
        query = (
            "SELECT f.path AS file, i.sender, i.receiver, i.control, i.groups, i.date "
            "FROM interchanges i JOIN files f ON f.id = i.file_id"
        )
        params: tuple[str, ...] = ()
        if sha256 is not None:
            query += " WHERE f.sha256 = ?"
            params = (sha256,)
        rows = self._db.execute(query + " ORDER BY f.first_seen, f.id, i.id", params)
        out = []
        for row in rows:
            item = dict(row)
            item["groups"] = json.loads(item["groups"])
            out.append(item)
        return out

    def duplicates(self) -> list[dict[str, Any]]:
        """Files refused as duplicates, with the file each one repeats."""
        rows = self._db.execute(
            "SELECT path AS file, sha256, first_seen, duplicate_of FROM files "
            "WHERE status = 'duplicate' ORDER BY first_seen, id"
        )
        return [dict(r) for r in rows]

    def stats(self) -> dict[str, Any]:
        """Totals: files by status, claims by status, findings by severity, seconds."""
        files = {
            str(r["status"]): int(r["n"])
            for r in self._db.execute("SELECT status, COUNT(*) AS n FROM files GROUP BY status")
        }
        claims = {
            str(r["status"]): int(r["n"])
            for r in self._db.execute("SELECT status, COUNT(*) AS n FROM claims GROUP BY status")
        }
        totals = self._db.execute(
            "SELECT COALESCE(SUM(claims), 0) AS claims, COALESCE(SUM(reject), 0) AS reject, "
            "COALESCE(SUM(deny_risk), 0) AS deny_risk, COALESCE(SUM(warning), 0) AS warning, "
            "COALESCE(SUM(seconds), 0) AS seconds, COUNT(*) AS files FROM files "
            "WHERE status = 'done'"
        ).fetchone()
        interchanges = self._db.execute("SELECT COUNT(*) FROM interchanges").fetchone()[0]
        return {
            "schema_version": self.schema_version,
            "files": files,
            "claims": claims,
            "interchanges": int(interchanges),
            "done": {
                "files": int(totals["files"]),
                "claims": int(totals["claims"]),
                "findings": {
                    "reject": int(totals["reject"]),
                    "deny-risk": int(totals["deny_risk"]),
                    "warning": int(totals["warning"]),
                },
                "seconds": round(float(totals["seconds"]), 3),
            },
        }


def _absolute(path: Path | str) -> str:
    return os.path.abspath(os.fspath(path))


def _file_dict(row: sqlite3.Row) -> dict[str, Any]:
    item = dict(row)
    item["codes"] = json.loads(item["codes"])
    item["outputs"] = json.loads(item["outputs"])
    return item
