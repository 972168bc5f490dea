"""A line break in ST02 or in a file name cannot forge a line of a command's output.

ST02 is quoted by the skipped-transaction notice, the "no 837P" error, envelope findings and
split's list of rejected levels; file names by every summary line. Each command must show a
line break from them as an escape, so that a tool reading its output line by line never sees
a line the file (or whoever named it) wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main

ROOT = Path(__file__).resolve().parents[1]
CLEAN = (ROOT / "samples" / "clean-injection.837").read_text()
FORGED = "edi837: all clean"


def with_st02(tmp_path: Path, kind: str) -> Path:
    """The clean sample whose ST02 (and SE02) carries a line break and a forged line."""
    text = CLEAN.replace("ST*837*0001*", f"ST*{kind}*0001\n{FORGED}*")
    text = text.replace("SE*34*0001~", f"SE*34*0001\n{FORGED}~")
    path = tmp_path / f"st02-{kind}.837"
    path.write_text(text)
    return path


COMMANDS = {
    "check": ["check"],
    "check -f text": ["check", "-f", "text"],
    "split": ["split", "-d", "out"],
    "fix": ["fix", "-o", "out.837"],
    "annotate": ["annotate", "-o", "out.txt"],
    "parse": ["parse", "-o", "out.tsv"],
    "ack": ["ack", "-o", "acks"],
}


@pytest.mark.parametrize("kind", ["835", "837"], ids=["skipped-set", "837p"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_line_break_in_st02_stays_inside_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, kind: str
) -> None:
    path = with_st02(tmp_path, kind)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*COMMANDS[command], str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if kind == "835" or result.exit_code == 2:
        # An 835 alone is no 837P; a 999 cannot echo such an ST02 in AK202: bad input.
        assert kind == "835" or command == "ack"
        assert result.exit_code == 2
        assert "0001" in result.stderr if kind == "835" else len(result.stderr.splitlines()) == 1
    for stream in (result.stdout, result.stderr):
        assert not any(line.startswith(FORGED) for line in stream.splitlines()), stream


@pytest.mark.parametrize("command", ["split", "ack"])
def test_a_line_break_in_a_file_name_stays_inside_the_summary_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    path = tmp_path / f"claims\n{FORGED}.837"
    path.write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*COMMANDS[command], str(path)])
    assert result.exit_code == 0 and "claims\\x0a" in result.stdout  # shown, escaped
    assert not any(line.startswith(FORGED) for line in result.stdout.splitlines())
