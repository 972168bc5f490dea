"""``check -f html``: one self-contained page with totals, chart, files, claims and findings."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html
from lxml.html import HtmlElement

from edi837 import __version__, api
from edi837.cli import main
from edi837.engine import Engine, FileResult
from edi837.findings import Finding, Severity
from edi837.reports.html import write_html

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
MULTI = SAMPLES / "multi.837"
MISSING_NDC = SAMPLES / "missing-ndc.837"
CLEAN = SAMPLES / "clean-injection.837"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


def xp(node: HtmlElement, path: str) -> list[Any]:
    """The nodes (elements, attribute values or strings) an XPath selects."""
    found = node.xpath(path)
    assert isinstance(found, list)
    return found


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def results_for(engine: Engine, *paths: Path) -> list[FileResult]:
    return [api.check(p, engine=engine, detail=True) for p in paths]


def page_for(results: list[FileResult]) -> tuple[str, HtmlElement]:
    out = io.StringIO()
    write_html(results, out)
    text = out.getvalue()
    return text, lxml_html.document_fromstring(text)


def text_of(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_totals_by_severity_and_code_with_a_chart(engine: Engine) -> None:
    results = results_for(engine, MULTI, MISSING_NDC, CLEAN)
    _, doc = page_for(results)
    findings = [f for r in results for f in r.findings]
    by_severity = Counter(f.severity for f in findings)
    for severity in Severity:
        (tile,) = xp(doc, f"//section[@id='totals']//div[@class='tile {severity.value}']")
        assert text_of(tile) == f"{by_severity[severity]} {severity.value}"
    by_code = Counter(f.code for f in findings)
    rows = xp(doc, "//table[@id='by-code']//tr[td]")
    assert {text_of(xp(r, "td")[0]): int(text_of(xp(r, "td")[2])) for r in rows} == by_code
    (svg,) = xp(doc, "//svg[@id='chart-by-code']")
    bars = xp(svg, ".//rect[contains(@class, 'bar')]")
    counted: Counter[str] = Counter()
    for bar in bars:
        code, rest = text_of(xp(bar, "title")[0]).split(": ")
        counted[code] += int(rest.split()[0])
    assert counted == by_code
    summary = text_of(xp(doc, "//header/p")[0])
    assert f"{len(findings)} findings" in summary and "3 files" in summary


def test_files_table_shows_status_counts_and_the_error_line(engine: Engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.837"
    broken.write_bytes(b"not an interchange\n")
    results = results_for(engine, MULTI, CLEAN, broken)
    _, doc = page_for(results)
    rows = xp(doc, "//table[@id='file-table']//tr[td]")
    assert [text_of(xp(r, "td")[0]) for r in rows] == [r.path for r in results]
    cells = {text_of(xp(r, "td")[0]): [text_of(c) for c in xp(r, "td")] for r in rows}
    multi = results[0]
    assert cells[str(MULTI)][1:4] == ["findings", str(multi.claims), str(multi.service_lines)]
    rejects = sum(f.severity is Severity.REJECT for f in multi.findings)
    assert cells[str(MULTI)][4] == str(rejects)
    assert cells[str(CLEAN)][1] == "ok"
    assert cells[str(broken)][1] == "error"
    assert results[2].error is not None and cells[str(broken)][-1] == results[2].error


def test_claims_with_findings_are_shown_with_lines_and_marked_elements(engine: Engine) -> None:
    results = results_for(engine, MULTI)
    result = results[0]
    _, doc = page_for(results)
    claims = xp(doc, "//article[contains(@class, 'claim')]")
    with_findings = sorted({f.claim for f in result.findings if f.claim is not None})
    assert [text_of(xp(c, ".//code[@class='claim-id']")[0]) for c in claims] == with_findings
    clean = result.claims - len(with_findings)
    note = text_of(xp(doc, "//p[contains(@class, 'clean-claims')]")[0])
    assert f"the {clean} without findings are not shown" in note
    claim = claims[0]
    view = next(v for v in result.claim_views if v.id == with_findings[0])
    lines = xp(claim, ".//table[@class='lines']//tr[td]")
    assert [text_of(xp(r, "td")[0]) for r in lines] == [str(line.number) for line in view.lines]
    ndcs = [xp(r, "td[7]/code") for r in lines]
    assert [text_of(c[0]) if c else "" for c in ndcs] == [line.ndc for line in view.lines]
    rows = xp(claim, ".//table[@class='findings']//tr[td]")
    assert [text_of(xp(r, "td[1]/code")[0]) for r in rows] == [f.code for f in result.findings]
    for row, finding in zip(rows, result.findings, strict=True):
        assert finding.message in text_of(row)
        marks = xp(row, ".//pre[@class='segment']/mark")
        assert len(marks) == 1
        assert finding.segment_text is not None and finding.column is not None
        segment = text_of(xp(row, ".//pre[@class='segment']")[0])
        assert segment == finding.segment_text
        width = finding.width or 1
        assert marks[0].text == finding.segment_text[finding.column : finding.column + width]
        if finding.fix is not None:
            assert finding.fix.description in text_of(row)


def test_data_from_the_file_is_escaped(engine: Engine, tmp_path: Path) -> None:
    data = MULTI.read_bytes()
    assert b"CLM*MULTI0004*" in data and b"LIN**N4*00409-3795-01~" in data
    data = data.replace(b"CLM*MULTI0004*", f"CLM*{SCRIPT}*".encode())
    data = data.replace(b"00409-3795-01", IMG.encode())
    hostile = tmp_path / "hostile.837"
    hostile.write_bytes(data)
    results = results_for(engine, hostile)
    text, doc = page_for(results)
    assert xp(doc, "//script") == [] and xp(doc, "//img") == []
    assert xp(doc, "//@onerror") == []
    assert SCRIPT not in text and IMG not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    ids = [text_of(c) for c in xp(doc, "//code[@class='claim-id']")]
    assert SCRIPT in ids
    assert any(IMG in text_of(td) for td in xp(doc, "//table[@class='lines']//td"))


def test_the_page_is_self_contained(engine: Engine) -> None:
    text, doc = page_for(results_for(engine, MULTI, MISSING_NDC))
    assert text.startswith("<!DOCTYPE html>")
    assert xp(doc, "//link") == [] and xp(doc, "//script") == []
    assert xp(doc, "//iframe | //object | //embed | //img | //video | //audio") == []
    assert xp(doc, "//@src") == []
    assert all(href.startswith("#") for href in xp(doc, "//@href"))
    style = "".join(s.text_content() for s in xp(doc, "//style"))
    assert "url(" not in style and "@import" not in style and "http" not in style
    assert xp(doc, "//@style") == []
    (generator,) = xp(doc, "//meta[@name='generator']/@content")
    assert generator == f"edi837 {__version__}"
    assert xp(doc, "//meta[@charset]/@charset") == ["utf-8"]
    targets = {href[1:] for href in xp(doc, "//@href")}
    assert targets <= set(xp(doc, "//@id"))


def test_control_characters_from_a_damaged_file_do_not_break_the_page() -> None:
    finding = Finding(
        "ENV-003",
        Severity.WARNING,
        "odd byte \x01 in the data",
        segment_id="NM1",
        segment_number=5,
        segment_text="NM1*41*2*ODD\x01NAME",
        column=9,
        width=8,
    )
    result = FileResult(path="odd\x02.837", status="findings", findings=[finding])
    _, doc = page_for([result])
    assert "odd byte \\x01 in the data" in text_of(xp(doc, "//table[@class='findings']")[0])
    assert xp(doc, "//mark")[0].text == "ODD\\x01NAME"
    assert "odd\\x02.837" in text_of(doc)


def test_a_run_without_findings_says_so(engine: Engine) -> None:
    _, doc = page_for(results_for(engine, CLEAN))
    assert xp(doc, "//svg") == []
    assert "No findings." in text_of(xp(doc, "//section[@id='totals']")[0])
    assert "no findings" in text_of(xp(doc, "//header/p")[0])


def test_check_writes_the_html_report_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["check", str(MULTI), "-f", "html", "-o", str(out)])
    assert result.exit_code == 1  # MULTI0004 has reject findings
    doc = lxml_html.document_fromstring(out.read_text("utf-8"))
    assert xp(doc, "//svg[@id='chart-by-code']")
    assert "MULTI0004" in text_of(doc)


# ---------------------------------------------------------------- rendering


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGB rows of an 8-bit RGB or RGBA PNG (standard library only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format {depth}/{colour}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind_of_filter = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind_of_filter == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind_of_filter == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind_of_filter == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind_of_filter == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 255
        rows.append(b"".join(bytes(line[i : i + 3]) for i in range(0, stride, bpp)))
        prev = line
    return width, height, rows


@pytest.mark.chromium
@pytest.mark.skipif(chromium() is None, reason="no chromium binary (Debian package chromium)")
def test_report_renders_in_headless_chromium(engine: Engine, tmp_path: Path) -> None:
    binary = chromium()
    assert binary is not None
    page = tmp_path / "report.html"
    with page.open("w", encoding="utf-8") as out:
        write_html(results_for(engine, MULTI, MISSING_NDC, CLEAN), out)
    flags = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]

    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    rendered = lxml_html.document_fromstring(dom)
    codes = {text_of(c) for c in xp(rendered, "//table[@class='findings']//tr/td[1]/code")}
    assert {"NDC-004", "CTP-002", "NDC-002"} <= codes
    assert xp(rendered, "//svg[@id='chart-by-code']//rect[contains(@class, 'bar')]")
    assert xp(rendered, "//mark")

    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
        capture_output=True,
        timeout=180,
        check=True,
    )
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 1600)
    colours: Counter[bytes] = Counter()
    for row in rows:
        colours.update(row[i : i + 3] for i in range(0, len(row), 3))
    white = colours[b"\xff\xff\xff"]
    assert white < 0.97 * width * height, "the screenshot is (almost) blank"
    assert len(colours) > 50, "the screenshot has hardly any distinct colours"
    # The reject colour of the tiles, badges and chart bars is on screen.
    assert colours[bytes.fromhex("b3261e")] > 0


# ---------------------------------------------------------------- the claim card


def card_of(doc: HtmlElement, claim_id: str) -> HtmlElement:
    (card,) = [
        c
        for c in xp(doc, "//article[contains(@class, 'claim')]")
        if text_of(xp(c, ".//code[@class='claim-id']")[0]) == claim_id
    ]
    return card


def facts_of(card: HtmlElement) -> dict[str, str]:
    return {
        text_of(xp(f, "dt")[0]): text_of(xp(f, "dd")[0])
        for f in xp(card, ".//dl[@class='facts']/div")
    }


def test_the_claim_card_names_patient_member_payer_and_billing_npi(engine: Engine) -> None:
    _, doc = page_for(results_for(engine, MISSING_NDC))
    facts = facts_of(card_of(doc, "MISSNDC01"))
    assert facts["Patient"] == "TESTPATIENT, ALEX Q"
    assert facts["Member id"] == "TESTMCD0001"
    assert facts["Payer"] == "EXAMPLE STATE MEDICAID (EXMCD)"
    assert facts["Billing NPI"] == "1999999901"
    assert facts["Total charge"] == "$168.00"


def test_lines_show_dates_money_pairing_and_the_ndc_with_quantity_and_unit(
    engine: Engine,
) -> None:
    _, doc = page_for(results_for(engine, MULTI))
    card = card_of(doc, "MULTI0004")
    rows = {
        text_of(xp(r, "td")[0]): [text_of(c) for c in xp(r, "td")]
        for r in xp(card, ".//table[@class='lines']//tr[td]")
    }
    assert rows["3"][1] == "J1885"
    assert rows["3"][4] == "$8.00" and rows["3"][5] == "2025-03-13"
    assert rows["3"][6] == "00409-3795-01 30 MG"
    assert rows["3"][7] == "injection line 2" and rows["2"][7] == "drug line 3"
    assert rows["1"][7] == ""


def test_each_finding_carries_its_rules_one_line_description(engine: Engine) -> None:
    from edi837.rules import default_registry

    registry = default_registry()
    _, doc = page_for(results_for(engine, MULTI))
    for row in xp(doc, "//table[@class='findings']//tr[td]"):
        code = text_of(xp(row, "td[1]/code")[0])
        assert text_of(xp(row, "td[1]/span[@class='rule']")[0]) == registry.get(code).summary
    for row in xp(doc, "//table[@id='by-code']//tr[td]"):
        code = text_of(xp(row, "td")[0])
        assert text_of(xp(row, "td")[3]) == registry.get(code).summary


def test_claims_can_be_filtered_by_severity_and_code_without_a_script(engine: Engine) -> None:
    results = results_for(engine, MULTI, MISSING_NDC)
    text, doc = page_for(results)
    assert xp(doc, "//script") == []
    codes = {f.code for r in results for f in r.findings}
    radios = set(xp(doc, "//form[@id='filters']//input[@type='radio']/@id"))
    assert {f"f-sev-{s.value}" for s in Severity} | {"f-sev-all", "f-code-all"} <= radios
    assert {f"f-code-{c}" for c in codes} <= radios
    style = text_of(xp(doc, "//style")[0])
    for code in codes:
        assert f"body:has(#f-code-{code}:checked) article.claim:not(.code-{code})" in style
    assert "body:has(#f-sev-reject:checked) article.claim:not(.sev-reject)" in style
    card = card_of(doc, "MISSNDC01")
    assert {"claim", "sev-reject", "code-NDC-002"} <= set(card.get("class", "").split())
    assert "@media print" in style


def test_redact_masks_the_card_segments_and_messages(engine: Engine, tmp_path: Path) -> None:
    long_name = "TESTPATIENT" * 6  # over NM103's 60 characters: ELM-002 quotes it
    data = MISSING_NDC.read_bytes().replace(b"*TESTPATIENT*", f"*{long_name}*".encode())
    path = tmp_path / "patients.837"
    path.write_bytes(data)
    results = results_for(engine, path)
    out = io.StringIO()
    write_html(results, out, redact=True)
    page = out.getvalue()
    for value in (long_name, "TESTPATIENT", "ALEX", "TESTMCD0001", "1999999901"):
        assert value not in page, value
    doc = lxml_html.document_fromstring(page)
    facts = facts_of(card_of(doc, "MISSNDC01"))
    assert facts["Patient"] == facts["Member id"] == facts["Billing NPI"] == "XXXX"
    assert facts["Payer"] == "EXAMPLE STATE MEDICAID (EXMCD)"
    plain = io.StringIO()
    write_html(results, plain)
    assert long_name in plain.getvalue()


def test_the_page_streams_to_a_binary_file_from_a_generator(engine: Engine) -> None:
    out = io.BytesIO()
    write_html((api.check(p, engine=engine, detail=True) for p in (MULTI, MISSING_NDC)), out)
    doc = lxml_html.document_fromstring(out.getvalue().decode("utf-8"))
    ids = [text_of(c) for c in xp(doc, "//code[@class='claim-id']")]
    assert ids == ["MULTI0004", "MISSNDC01"]
    assert [s.get("id") for s in xp(doc, "//body/section")] == ["totals", "files", "claims"]


def test_detail_keeps_views_only_of_claims_with_findings(engine: Engine) -> None:
    result = api.check(MULTI, engine=engine, detail=True)
    assert result.claims == 4
    assert [v.id for v in result.claim_views] == ["MULTI0004"]
