"""The command line as a user meets it: output, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import __version__
from edi837.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
CLEAN = str(SAMPLES / "clean-injection.837")
MISSING_NDC = str(SAMPLES / "missing-ndc.837")
MULTI = str(SAMPLES / "multi.837")


def invoke(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_version_and_help_on_every_command() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and __version__ in out
    for command in ("parse", "check", "fix", "annotate", "split", "rules", "refdata"):
        code, out, _ = invoke(command, "-h")
        assert code == 0, command
        assert "Usage:" in out and "-h, --help" in out


def test_python_dash_m_works_like_the_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "edi837", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_parse_tsv_gives_number_loop_and_text() -> None:
    code, out, _ = invoke("parse", CLEAN, "-f", "tsv")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0] == ["1", "ISA_LOOP", rows[0][2]] and rows[0][2].startswith("ISA*")
    loops = {row[1] for row in rows}
    assert {"GS_LOOP", "ST_LOOP", "HEADER", "1000A", "1000B", "2000A", "2010AA"} <= loops
    assert {"2000B", "2010BA", "2010BB", "2300", "2310B", "2400", "2410"} <= loops
    lin = next(row for row in rows if row[2].startswith("LIN"))
    assert lin[1] == "2410"
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))


def test_parse_json_is_a_nested_tree_in_file_order() -> None:
    code, out, _ = invoke("parse", CLEAN, "-f", "json")
    assert code == 0
    doc = json.loads(out)
    numbers: list[int] = []

    def walk(node: dict[str, object], path: tuple[str, ...]) -> None:
        for child in node["children"]:  # type: ignore[attr-defined]
            if "loop" in child:
                walk(child, (*path, child["loop"]))
            else:
                numbers.append(child["number"])
                if child["segment"] == "LIN":
                    assert path[-1] == "2410" and "2400" in path and "2300" in path

    walk(doc, ())
    assert numbers == sorted(numbers) and numbers[0] == 1


def test_parse_xml_has_loops_segments_and_elements() -> None:
    from lxml import etree

    code, out, _ = invoke("parse", CLEAN, "-f", "xml")
    assert code == 0
    root = etree.fromstring(out.encode())
    sv1 = root.xpath("//loop[@id='2400']/segment[@id='SV1']")
    assert sv1, "SV1 segments under 2400 loops"
    codes = root.xpath("//segment[@id='SV1']/element[@ref='SV101']/component[@ref='SV101-2']")
    assert isinstance(codes, list)
    assert "96372" in [getattr(c, "text", None) for c in codes]


def test_parse_reads_standard_input() -> None:
    data = Path(CLEAN).read_bytes()
    code, out, _ = invoke("parse", "-", "-f", "tsv", input=data)
    assert code == 0 and out.startswith("1\tISA_LOOP\tISA*")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"GS*HC*A*B~ST*837*1~", "does not start with an ISA"),
        (b"ISA*00*          *00*", "truncated ISA"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.837"
    bad.write_bytes(content)
    for command in ("parse", "check"):
        code, _, err = invoke(command, str(bad))
        assert code == 2, command
        lines = [line for line in err.splitlines() if not line.startswith("edi837: note")]
        assert len(lines) == 1, err
        assert lines[0].startswith(f"{bad}:") and message in lines[0]
        assert "Traceback" not in err


def test_directory_and_missing_file(tmp_path: Path) -> None:
    code, _, err = invoke("check", str(tmp_path))
    assert code == 2 and "no 837 files in this folder" in err
    code, _, err = invoke("parse", str(tmp_path / "nope.837"))
    assert code == 2 and "no such file" in err


def test_check_continues_after_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.837"
    bad.write_bytes(b"hello")
    code, out, err = invoke("check", "-f", "json", str(bad), CLEAN)
    assert code == 2
    doc = json.loads(out)
    assert [f["status"] for f in doc["files"]] == ["error", "ok"]
    assert doc["files"][1]["claims"] == 1
    assert "bad.837" in err


def test_check_json_follows_the_contract() -> None:
    code, out, _ = invoke("check", "-f", "json", MISSING_NDC)
    doc = json.loads(out)
    assert doc["version"] == 2
    assert set(doc["summary"]) == {"files", "claims", "findings"}
    assert set(doc["summary"]["findings"]) == {"reject", "deny-risk", "warning"}
    file = doc["files"][0]
    assert set(file) == {
        "path",
        "status",
        "error",
        "interchanges",
        "transactions",
        "claims",
        "service_lines",
        "findings",
    }
    assert (file["interchanges"], file["transactions"], file["claims"]) == (1, 1, 1)
    assert file["service_lines"] == 3
    finding = next(f for f in file["findings"] if f["code"] == "NDC-002")
    assert finding["severity"] == "reject"  # medicaid requires NDCs on drug lines
    assert finding["claim"] and finding["line"] == 3 and finding["loop"] == "2400"
    assert finding["segment"] == "SV1" and isinstance(finding["segment_number"], int)
    assert finding["interchange"] == "000000102" and finding["transaction"] == "0001"
    assert code == 1


def test_clean_sample_has_no_finding_at_deny_risk_or_above() -> None:
    code, out, _ = invoke("check", "-f", "json", "--fail-on", "deny-risk", CLEAN)
    doc = json.loads(out)
    serious = [f for f in doc["files"][0]["findings"] if f["severity"] != "warning"]
    assert serious == [] and code == 0


def test_fail_on_changes_the_exit_code_only() -> None:
    strict, _, _ = invoke("check", "--fail-on", "warning", MULTI)
    lenient, _, _ = invoke("check", "--select", "INJ-003", "--fail-on", "reject", MULTI)
    assert strict == 1 and lenient == 0


def test_select_and_ignore() -> None:
    _, out, _ = invoke("check", "-f", "json", "--select", "NDC", MULTI)
    codes = {f["code"] for f in json.loads(out)["files"][0]["findings"]}
    assert codes and all(c.startswith("NDC-") for c in codes)
    _, out, _ = invoke("check", "-f", "json", "--ignore", "NDC", MULTI)
    codes = {f["code"] for f in json.loads(out)["files"][0]["findings"]}
    assert not any(c.startswith("NDC-") for c in codes)
    code, _, err = invoke("check", "--select", "NOPE", MULTI)
    assert code == 2 and "NOPE" in err


def test_text_report_locates_findings() -> None:
    code, out, _ = invoke("check", MULTI)
    assert code == 1
    assert "claim " in out and "line " in out
    assert "^" in out, "a caret under the offending element"
    assert out.rstrip().splitlines()[-1].startswith("Found ")
    assert "fixable with `edi837 fix`" in out
    assert "\x1b[" not in out, "no colour codes when not on a terminal"


def test_csv_report_has_one_row_per_finding() -> None:
    _, out, _ = invoke("check", "-f", "csv", MULTI)
    lines = out.splitlines()
    assert lines[0].startswith("path,code,severity,message")
    _, js, _ = invoke("check", "-f", "json", MULTI)
    assert len(lines) - 1 == len(json.loads(js)["files"][0]["findings"])


def test_rules_list_and_one_rule() -> None:
    code, out, _ = invoke("rules", "-f", "json")
    rules = json.loads(out)
    assert code == 0 and {"code", "severity", "summary", "fix"} <= set(rules[0])
    assert any(r["code"] == "NDC-004" for r in rules)
    code, out, _ = invoke("rules", "NDC-004")
    assert code == 0 and out.startswith("NDC-004:")
    for section in ("What it does:", "Why it matters:", "Fix safety:", "Example:", "Sources:"):
        assert section in out
    code, _, err = invoke("rules", "XYZ-999")
    assert code == 2 and "XYZ-999" in err


def test_refdata_lists_tables_and_missing_ones() -> None:
    code, out, _ = invoke("refdata", "-f", "json")
    doc = json.loads(out)
    assert code == 0
    assert any(t["name"] for t in doc["tables"])
    assert "ncci-ptp" in doc["missing"]


def test_config_file_is_read(tmp_path: Path) -> None:
    config = tmp_path / "edi837.toml"
    config.write_text('select = ["NDC-002"]\n[severity]\n"NDC-002" = "warning"\n')
    code, out, _ = invoke("check", "-f", "json", "--config", str(config), MISSING_NDC)
    findings = json.loads(out)["files"][0]["findings"]
    assert [f["code"] for f in findings] == ["NDC-002"]
    assert findings[0]["severity"] == "warning" and code == 0
    config.write_text("selct = []\n")
    code, _, err = invoke("check", "--config", str(config), MISSING_NDC)
    assert code == 2 and "selct" in err


def test_non_837p_transactions_are_named_and_skipped(tmp_path: Path) -> None:
    text = Path(CLEAN).read_text()
    other = text.replace("ST*837*0001*005010X222A1~", "ST*835*0001*005010X221A1~", 1)
    other = other.replace("GS*HC*", "GS*HP*").replace("005010X222A1~", "005010X221A1~")
    path = tmp_path / "remit.835"
    path.write_text(other)
    code, _, err = invoke("check", str(path))
    assert code == 2 and "835" in err


def test_parse_names_structure_problems_but_still_prints_the_tree(tmp_path: Path) -> None:
    text = Path(CLEAN).read_text().replace("SE*34*0001~", "SE*33*0001~")
    path = tmp_path / "count.837"
    path.write_text(text)
    code, out, err = invoke("parse", str(path), "-f", "tsv")
    assert code == 0 and out.startswith("1\tISA_LOOP")
    assert "1 envelope/structure finding (ENV-008)" in err and "edi837 check" in err


def test_superscript_digits_are_not_numbers(tmp_path: Path) -> None:
    # Latin-1 superscripts pass str.isdigit() but not int(); they must be findings, not crashes.
    text = Path(CLEAN).read_text().replace("HL*1**20*1~", "HL*\u00b2**20*1~")
    text = text.replace("LX*1~", "LX*\u00b9~").replace("*UN*1***1~", "*UN*1***\u00b3~")
    path = tmp_path / "superscript.837"
    path.write_bytes(text.encode("latin-1"))
    code, out, err = invoke("check", "-f", "json", str(path))
    assert "internal error" not in err and "Traceback" not in err
    codes = {f["code"] for f in json.loads(out)["files"][0]["findings"]}
    assert "HL-001" in codes and code == 1
