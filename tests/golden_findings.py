"""The golden findings: ``check -f json`` of generated files, stored to hold speed work to them.

Each case is a file ``bench/gen837.py`` writes from fixed options (a practice's mix, and the
all-injection file with its deliberate problems); the generator is seeded, so the same options
give the same bytes. ``tests/test_golden_findings.py`` checks each generated file and compares
the whole JSON document with ``tests/fixtures/golden/NAME.json``.

When a rule change alters the findings on purpose, regenerate the stored documents and review
the diff before committing it::

    .venv/bin/python -m tests.golden_findings
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edi837 import api
from edi837.reports.json_report import document

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "bench" / "gen837.py"
GOLDEN = ROOT / "tests" / "fixtures" / "golden"


@dataclass(frozen=True)
class Case:
    """One generated file: its name and the generator options that make it."""

    name: str
    options: tuple[str, ...]

    @property
    def expected(self) -> Path:
        """The stored JSON document of this case."""
        return GOLDEN / f"{self.name}.json"


CASES = (
    Case("mix-3000", ("--mix", "--claims", "3000", "--seed", "4242")),
    Case(
        "injection-1000", ("--claims", "1000", "--seed", "2424", "--claims-per-transaction", "400")
    ),
)


def generate(case: Case) -> bytes:
    """The bytes of the generated 837 file of ``case``."""
    done = subprocess.run(
        [sys.executable, str(GENERATOR), *case.options, "--out", "-"],
        check=True,
        capture_output=True,
    )
    return done.stdout


def findings_document(case: Case) -> dict[str, Any]:
    """``check -f json`` of the case's file, every rule on, as the command line writes it."""
    engine = api.load_engine()
    result = api.check(io.BytesIO(generate(case)), engine=engine, name=f"{case.name}.837")
    return document([result])


def main() -> int:
    """Rewrite every stored document from the current code."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        doc = findings_document(case)
        case.expected.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"{case.expected.relative_to(ROOT)}: {len(doc['files'][0]['findings'])} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
