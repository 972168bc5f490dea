"""``edi837 check`` over every file of the shared corpus: no traceback, trustworthy exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main
from tests.corpus import CORPUS

FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "SOURCES.md")
)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_check_never_crashes_and_exits_by_the_contract(path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "-f", "json", str(path)])
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    doc = json.loads(result.stdout)
    file = doc["files"][0]
    if file["status"] == "error":
        # Unreadable, or no 837P at all: one line on standard error and exit code 2.
        assert result.exit_code == 2
        assert file["error"] and str(path) in result.stderr
    else:
        assert result.exit_code in (0, 1)
        assert file["transactions"] >= 1
        rejects = [f for f in file["findings"] if f["severity"] == "reject"]
        assert result.exit_code == (1 if rejects else 0)
