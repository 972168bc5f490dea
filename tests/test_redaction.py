"""``redact``: patient data masked in every report and listing, positions kept."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from edi837 import api
from edi837.engine import Engine, FileResult
from edi837.redaction import MASK, redact_segment, redact_text
from edi837.reports.annotate import write_listing
from edi837.reports.csv_report import write_csv
from edi837.reports.json_report import write_json
from edi837.reports.text import strip_styles, write_text
from edi837.source import Source
from edi837.x12.segment import Delimiters, Segment

ROOT = Path(__file__).resolve().parents[1]
MULTI = ROOT / "samples" / "multi.837"
LONG_NAME = "SAMPLEMAN" * 8  # 72 characters: NM103 allows 60, so ELM-002 quotes it
#: Patient data of the altered sample that no redacted output may show.
PATIENT = [LONG_NAME, "TERRY", "TESTMBI0002", "301 INVENTED AVENUE", "19520918", "17Q"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def result(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> FileResult:
    data = MULTI.read_bytes()
    data = data.replace(b"NM1*IL*1*SAMPLEMAN*TERRY", f"NM1*IL*1*{LONG_NAME}*TERRY".encode())
    data = data.replace(
        b"N4*ANYTOWN*PA*17101~\nDMG*D8*19520918", b"N4*ANYTOWN*PA*17Q~\nDMG*D8*19520918"
    )
    path = tmp_path_factory.mktemp("redact") / "patients.837"
    path.write_bytes(data)
    found = api.check(path, engine=engine)
    codes = {(f.segment_id, f.code) for f in found.findings}
    assert ("NM1", "ELM-002") in codes, codes
    return found


def seg(text: str) -> Segment:
    return Segment(text, Delimiters())


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("NM1*IL*1*DOE*JANE*Q***MI*123456789", f"NM1*IL*1*{MASK}*{MASK}*{MASK}***MI*{MASK}"),
        ("NM1*QC*1*DOE*JOHN", f"NM1*QC*1*{MASK}*{MASK}"),
        ("NM1*PR*2*ACME HEALTH*****PI*ACME1", "NM1*PR*2*ACME HEALTH*****PI*ACME1"),
        ("NM1*85*2*CLINIC*****XX*1999999901", f"NM1*85*2*CLINIC*****XX*{MASK}"),
        ("N3*1 MAIN ST*APT 2", f"N3*{MASK}*{MASK}"),
        ("N4*TOWN*PA*17101**CY*X", f"N4*{MASK}*{MASK}*{MASK}**CY*{MASK}"),
        ("DMG*D8*19520918*M", f"DMG*D8*{MASK}*{MASK}"),
        ("REF*SY*123456789", f"REF*SY*{MASK}"),
        ("REF*1W*MEMBER1*NOTE", f"REF*1W*{MASK}*{MASK}"),
        ("REF*G1*PRIORAUTH1", "REF*G1*PRIORAUTH1"),
        ("PER*IC*JANE DOE*TE*5555550100*EM*J@X.ORG", f"PER*IC*{MASK}*TE*{MASK}*EM*{MASK}"),
        ("CLM*PCN1*100***11:B:1*Y*A*Y*Y", "CLM*PCN1*100***11:B:1*Y*A*Y*Y"),
    ],
)
def test_masking_keeps_ids_qualifiers_and_element_count(text: str, masked: str) -> None:
    assert redact_segment(seg(text)) == masked
    assert redact_text(text, "*") == masked
    assert masked.count("*") == text.count("*")


def test_components_are_masked_one_by_one() -> None:
    assert redact_text("N3*A:B", "*", ":") == f"N3*{MASK}:{MASK}"


def test_text_report_masks_segments_and_messages(result: FileResult) -> None:
    plain = "\n".join(strip_styles(line) for line in write_text([result]))
    assert LONG_NAME in plain  # without redact the report shows the data
    report = "\n".join(strip_styles(line) for line in write_text([result], redact=True))
    for value in PATIENT:
        assert value not in report, value
    assert f"NM1*IL*1*{MASK}*{MASK}****MI*{MASK}" in report
    lines = report.splitlines()
    index = next(i for i, line in enumerate(lines) if f"NM1*IL*1*{MASK}" in line)
    caret = lines[index + 1]
    # The caret stands under the masked NM103.
    assert caret.index("^") == lines[index].index(MASK) and caret.count("^") == len(MASK)


def test_json_and_csv_mask_messages(result: FileResult) -> None:
    out = io.StringIO()
    write_json([result], out, redact=True)
    document = json.loads(out.getvalue())
    messages = [f["message"] for f in document["files"][0]["findings"]]
    # Messages either never quote a patient value or have it masked.
    assert all(value not in m for m in messages for value in PATIENT)
    text = io.StringIO()
    write_csv([result], text, redact=True)
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    for value in PATIENT:
        assert value not in out.getvalue() and value not in text.getvalue(), value
    assert len(rows) == len(result.findings) + 1


def test_annotate_masks_segment_and_note_lines(engine: Engine, result: FileResult) -> None:
    out = io.BytesIO()
    summary = write_listing(
        Source(Path(result.path).read_bytes(), "p.837"), engine, out, redact=True
    )
    listing = out.getvalue().decode("latin-1")
    for value in PATIENT:
        assert value not in listing, value
    assert "does not give the input back" in summary.restore
    assert f"NM1*IL*1*{MASK}*{MASK}****MI*{MASK}~" in listing
    assert "CLM*MULTI0004*" in listing  # claims stay readable


def test_streamed_json_is_byte_for_byte_the_contract_document(result: FileResult) -> None:
    from edi837.reports.json_report import document

    for redact in (False, True):
        streamed = io.BytesIO()
        write_json(iter([result, result]), streamed, redact=redact)
        whole = json.dumps(document([result, result], redact), indent=2) + "\n"
        assert streamed.getvalue().decode("utf-8") == whole
