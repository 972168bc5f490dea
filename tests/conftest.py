"""Shared pytest fixtures: where the hand-written fixtures and the shared corpus live.

Also the hypothesis profiles of the fuzz suite (reproducible in CI, longer with ``make fuzz``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.corpus import CORPUS

# The suite never reads or writes the user's own data folder (reference data installed with
# `edi837 refdata update` would change what the rules see): every process it starts, in-process
# or as a subprocess, gets a private one.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="edi837-test-data-")
# The tests compile the guide from pyx12's map, the source of truth, never from a cached copy
# (tests/test_guide_cache.py turns the cache on where it is the subject).
os.environ["EDI837_GUIDE_CACHE"] = "0"

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def x837p_fixtures() -> Path:
    """The folder of small 837P snippets written for the 837P layer's tests."""
    return FIXTURES / "x837p"


@pytest.fixture
def corpus_dir() -> Path:
    """The shared corpus of real-world 837 files; the test is skipped where it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


# Property-based tests (tests/test_fuzz.py) run reproducibly in CI: the same examples on every
# run, no example database. ``make fuzz`` (EDI837_FUZZ=20) explores new examples on each run
# and prints the seed of any failure so that it can be replayed.
settings.register_profile(
    "edi837-ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "edi837-fuzz",
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    "edi837-fuzz" if os.environ.get("EDI837_FUZZ", "1") not in ("", "1") else "edi837-ci"
)
