"""One home per parser code: every code the parser can report is a registered, documented rule.

The envelope checker, the loop tracker, the element checks and the header checker report only
through the code classes of ``x12/checks.py`` and ``x837p/checks.py``; the rule registry must
know each of them as the very rule class ``edi837 rules`` documents, and the parser modules must
not spell a code as a string (a code the registry does not know would be dropped silently).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from edi837.findings import Severity
from edi837.rules import default_registry
from edi837.x12 import checks as x12_codes
from edi837.x12.checks import Check, checks
from edi837.x837p import checks as guide_codes

PACKAGE = Path(__file__).resolve().parents[1] / "edi837"
PARSER_MODULES = [
    PACKAGE / "x12" / "envelope.py",
    PACKAGE / "x837p" / "tracker.py",
    PACKAGE / "x837p" / "elements.py",
    PACKAGE / "x837p" / "header.py",
    PACKAGE / "x837p" / "builder.py",
]
CODE = re.compile(r"^[A-Z]{2,4}-\d{3}$")


def test_every_parser_code_is_a_registered_rule_of_the_same_class() -> None:
    registry = default_registry()
    declared = checks()
    assert {c.code for c in declared} >= {"ENV-001", "ENV-004", "HL-001", "ELM-005", "ELM-006"}
    for code_class in declared:
        assert code_class.code in registry, f"{code_class.code} is reported but not registered"
        rule = registry.get(code_class.code)
        assert isinstance(rule, code_class), f"{rule.code} is not the parser's {code_class}"
        assert rule.severity is code_class.severity
    # And the other way round: every structure rule is one the parser reports through.
    structure = {rule.code for rule in registry if rule.scope == "structure"}
    assert structure == {c.code for c in declared}


def test_parser_modules_spell_no_code_as_a_string() -> None:
    for path in PARSER_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        literals = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and CODE.match(node.value)
        ]
        assert literals == [], f"{path.name} spells codes: {literals}"


def test_a_finding_is_located_on_its_segment_by_one_helper() -> None:
    from edi837.x12.segment import Delimiters, Segment

    seg = Segment("SV1*HC:96372*NaN*UN*1***1", Delimiters(), number=29, byte_offset=812, line=29)
    finding = guide_codes.ELM006.finding("SV102 is not a decimal", seg, "SV102", loop="2400")
    assert (finding.code, finding.severity) == ("ELM-006", Severity.REJECT)
    assert (finding.segment_id, finding.segment_number, finding.byte_offset) == ("SV1", 29, 812)
    assert (finding.line_number, finding.element, finding.loop) == (29, "SV102", "2400")
    assert (finding.segment_text, finding.column, finding.width) == (seg.text, 13, 3)
    warning = x12_codes.ENV003.finding("mixed line breaks", seg)
    assert warning.severity is Severity.WARNING and warning.element is None
    assert issubclass(x12_codes.ENV002, Check)


def test_every_code_the_reader_emits_on_the_fixtures_is_registered() -> None:
    from edi837.x12.reader import read_segments
    from edi837.x837p.builder import UnitReader

    root = PACKAGE.parent
    files = [
        *sorted((root / "samples").glob("*.837")),
        *sorted((root / "tests" / "fixtures").rglob("*.837")),
        *sorted((root / "tests" / "fixtures" / "envelope").glob("*.x12")),
    ]
    registry = default_registry()
    emitted: set[str] = set()
    for path in files:
        for unit in UnitReader(read_segments(path.read_bytes())):
            emitted.update(finding.code for finding in unit.findings)
    assert emitted, "the fixtures should raise some parser findings"
    assert sorted(code for code in emitted if code not in registry) == []
