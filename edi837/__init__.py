"""edi837: read X12 837P claim files, check CPT 96372 injection lines against their drug lines.

The package is a library first. The names in ``__all__`` are the public API (documented in
``docs/api.md``); they live in :mod:`edi837.api` and are loaded on first use, so that
``import edi837`` and ``edi837 --help`` stay fast. Everything else stays importable but is
not promised. :mod:`edi837.cli` is a thin click layer over the same functions.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edi837.version import __version__

__all__ = [
    "Claim",
    "FileResult",
    "Finding",
    "FixResult",
    "No837P",
    "OptionsError",
    "PlacedSegment",
    "Severity",
    "Source",
    "SplitResult",
    "X12SyntaxError",
    "__version__",
    "annotate",
    "check",
    "claims",
    "fix",
    "load_engine",
    "segments",
    "split",
]

if TYPE_CHECKING:
    from edi837.api import (
        Claim,
        FileResult,
        Finding,
        FixResult,
        No837P,
        OptionsError,
        PlacedSegment,
        Severity,
        Source,
        SplitResult,
        X12SyntaxError,
        annotate,
        check,
        claims,
        fix,
        load_engine,
        segments,
        split,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("edi837.api"), name)
    raise AttributeError(f"module 'edi837' has no attribute {name!r}")
