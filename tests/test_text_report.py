"""``check -f text``: what the report shows for files that stop on bad input, and as a stream."""

from __future__ import annotations

import io
from pathlib import Path

from edi837 import api
from edi837.engine import Engine
from edi837.reports.text import strip_styles, write_text, write_text_to

ROOT = Path(__file__).resolve().parents[1]
MULTI = ROOT / "samples" / "multi.837"


def test_findings_of_a_file_that_stops_on_bad_input_are_shown(tmp_path: Path) -> None:
    data = MULTI.read_bytes()
    isa = data[: data.index(b"~") + 1]
    broken = tmp_path / "broken.837"
    broken.write_bytes(data + b"\n" + isa[:-2] + b"*~\n" + data[len(isa) :])
    result = api.check(broken, engine=Engine())
    assert result.status == "error" and result.findings
    lines = [strip_styles(line) for line in write_text([result])]
    shown = [
        line for line in lines if line.lstrip().startswith(tuple(f.code for f in result.findings))
    ]
    assert len(shown) == len(result.findings)
    assert lines[0].startswith(f"{broken}: error: ")
    assert lines[-1].startswith(f"Found {len(result.findings)} findings")


def test_the_report_streams_to_a_binary_file_without_styles() -> None:
    engine = Engine()
    out = io.BytesIO()
    write_text_to((api.check(MULTI, engine=engine) for _ in range(2)), out)
    text = out.getvalue().decode("utf-8")
    assert "\x1b" not in text
    assert text.count("claim MULTI0004") == 2
    assert text.endswith(".\n") and "Found 4 findings" in text
