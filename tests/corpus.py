"""Where the shared corpus of real-world 837 files is, for every test that reads it.

Beside the project as CI has it (``../shared/corpus``); ``EDI837_CORPUS`` names it for a copy
of the tree elsewhere (``make test-compiled`` runs the suite in ``build/compiled-tree``).
"""

from __future__ import annotations

import os
from pathlib import Path

CORPUS = Path(
    os.environ.get("EDI837_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)
