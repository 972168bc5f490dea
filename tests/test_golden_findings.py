"""Generated files give exactly the stored findings, location and fix included.

A faster parser or rule engine must not change a single one. Regenerate with
``python -m tests.golden_findings`` only when a rule change means to change them.
"""

from __future__ import annotations

import json

import pytest

from tests.golden_findings import CASES, Case, findings_document


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_generated_file_gives_the_stored_findings(case: Case) -> None:
    expected = json.loads(case.expected.read_text(encoding="utf-8"))
    actual = findings_document(case)
    assert actual["summary"] == expected["summary"]
    # Finding by finding first, so that a failure names the first one that differs.
    for got, want in zip(
        actual["files"][0]["findings"], expected["files"][0]["findings"], strict=False
    ):
        assert got == want
    assert actual == expected
