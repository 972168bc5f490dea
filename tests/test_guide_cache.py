"""The cached guide is the compiled guide: same tables, rebuilt when stale or damaged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edi837.x837p import guide, guide_cache
from edi837.x837p.guide import MAP_FILE
from edi837.x837p.guide_cache import load_guide


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("EDI837_GUIDE_CACHE", "1")
    monkeypatch.setenv("EDI837_CACHE_DIR", str(tmp_path))
    load_guide.cache_clear()
    yield tmp_path
    load_guide.cache_clear()


def test_a_guide_read_back_from_the_cache_equals_the_one_compiled_from_pyx12(cache: Path) -> None:
    compiled = guide.load_guide()
    first = load_guide()  # compiles and writes the cache
    path = guide_cache.cache_path(MAP_FILE)
    assert path.parent == cache and path.is_file()
    load_guide.cache_clear()
    cached = load_guide()
    assert cached is not first
    assert guide_cache.to_plain(cached) == guide_cache.to_plain(compiled)
    # The derived scan tables place segments exactly as the compiled ones do.
    for key, loop in compiled.loops.items():
        again = cached.loops[key]
        assert sorted(again.scan) == sorted(loop.scan)
        for seg_id, entries in loop.scan.items():
            assert [(e.position, e.target.path, [x.key for x in e.loops]) for e in entries] == [
                (e.position, e.target.path, [x.key for x in e.loops]) for e in again.scan[seg_id]
            ]
    assert cached.envelope_loops == compiled.envelope_loops
    assert cached.segment_ids == compiled.segment_ids


@pytest.mark.parametrize("damage", ["", "{not json", '{"format": 1, "id": "837"}', "[1, 2]"])
def test_an_unreadable_cache_file_is_rebuilt_not_trusted(cache: Path, damage: str) -> None:
    path = guide_cache.cache_path(MAP_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(damage, encoding="utf-8")
    loaded = load_guide()
    assert loaded.loops_named("2400")
    assert guide_cache.read(path) is not None  # written again, whole


def test_the_key_names_the_pyx12_version_and_changes_with_the_compiler(cache: Path) -> None:
    import pyx12

    name = guide_cache.cache_path(MAP_FILE).name
    assert f"pyx12-{pyx12.__version__}-" in name
    # Only the named file is ever read: a file of another key is ignored.
    (cache / "guide-1-pyx12-0.0-0000.json").write_text("{}", encoding="utf-8")
    assert load_guide().loops_named("2300")
