"""The compiled 837P guide kept between runs: plain JSON tables in the user's cache folder.

Loading pyx12's XML map is most of ``edi837 check``'s start-up (pyx12 parses the whole map and
its code lists). The tables :mod:`edi837.x837p.guide` compiles from it are plain data, so they
are written once as JSON and read back by later processes. JSON, never pickle: a cache file is
data that anyone with write access to the folder could change, and reading it must not be able
to run code.

The file name carries its key: pyx12's version, a hash of the map file and a hash of the
compiling code, so a new pyx12, a changed map or a changed compiler never reads an old file.
A file that cannot be read or does not hold the expected shape is rebuilt from pyx12, never
trusted. pyx12 stays the source of truth: ``EDI837_GUIDE_CACHE=0`` (the test suite sets it)
compiles from the map every time, and ``EDI837_CACHE_DIR`` names another folder.

:func:`load_guide` is what the loop tracker and the acknowledgements use;
:func:`edi837.x837p.guide.load_guide` always compiles from the map.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

from edi837.x837p import guide as compiling
from edi837.x837p.guide import (
    MAP_FILE,
    ElementDef,
    Guide,
    LoopDef,
    Qualifier,
    SegmentSlot,
    SyntaxRule,
    assemble,
)

#: Bumped when the layout of the stored tables changes.
FORMAT = 1


@cache
def load_guide() -> Guide:
    """The 837P guide, read from the user's cache when current, else compiled and stored."""
    if not enabled():
        return compiling.load_guide()
    started = time.perf_counter()
    path = cache_path(MAP_FILE)
    guide = read(path)
    if guide is None:
        guide = compiling.load_guide()
        write(path, guide)
    guide.compile_seconds = time.perf_counter() - started
    return guide


def cache_dir() -> Path:
    """The user's cache folder for edi837 (XDG on Linux, the platform's folder elsewhere)."""
    named = os.environ.get("EDI837_CACHE_DIR")
    if named:
        return Path(named)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "edi837" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "edi837"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "edi837"


def enabled() -> bool:
    """False when ``EDI837_GUIDE_CACHE`` is ``0``: compile from pyx12's map every time."""
    return os.environ.get("EDI837_GUIDE_CACHE", "1") != "0"


def cache_path(map_file: str) -> Path:
    """Where the tables compiled from ``map_file`` with the installed pyx12 are kept."""
    import pyx12  # the package only: its map machinery is what the cache avoids loading

    digest = hashlib.sha256()
    with open(Path(pyx12.__file__).parent / "map" / map_file, "rb") as fd:
        digest.update(fd.read())
    # The compiling code is part of the key: a changed compiler makes different tables.
    for module in ("guide.py", "guide_cache.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    version = str(pyx12.__version__).replace(os.sep, "_")
    return cache_dir() / f"guide-{FORMAT}-pyx12-{version}-{digest.hexdigest()[:20]}.json"


# --- plain tables ---------------------------------------------------------------------------


def _element(e: ElementDef) -> list[Any]:
    return [
        e.ref,
        e.name,
        e.position,
        e.component,
        e.usage,
        e.data_type,
        e.min_length,
        e.max_length,
        sorted(e.codes) if e.codes is not None else None,
        e.external_codes,
        [_element(part) for part in e.components] if e.components is not None else None,
        e.data_element,
    ]


def _slot(s: SegmentSlot) -> list[Any]:
    q = s.qualifier
    return [
        s.position,
        s.segment_id,
        s.name,
        s.usage,
        s.max_use,
        [q.ref, q.element, q.component, sorted(q.codes)] if q is not None else None,
        [_element(e) for e in s.elements],
        s.path,
        [[r.kind, list(r.positions)] for r in s.syntax],
    ]


def _loop(loop: LoopDef) -> list[Any]:
    return [
        loop.id,
        loop.name,
        loop.position,
        loop.usage,
        loop.repeat,
        [_slot(s) for s in loop.segments],
        [_loop(child) for child in loop.children],
    ]


def to_plain(guide: Guide) -> dict[str, Any]:
    """The guide as JSON-ready lists and strings (the scan tables are derived, not stored)."""
    return {"format": FORMAT, "id": guide.id, "name": guide.name, "root": _loop(guide.root)}


def _element_from(row: list[Any]) -> ElementDef:
    ref, name, position, component, usage, data_type, low, high, codes, ext, parts, de = row
    return ElementDef(
        ref=ref,
        name=name,
        position=position,
        component=component,
        usage=usage,
        data_type=data_type,
        min_length=low,
        max_length=high,
        codes=frozenset(codes) if codes is not None else None,
        external_codes=ext,
        components=tuple(_element_from(p) for p in parts) if parts is not None else None,
        data_element=de,
    )


def _loop_from(row: list[Any], parent: LoopDef | None) -> LoopDef:
    loop_id, name, position, usage, repeat, slots, children = row
    loop = LoopDef(
        id=loop_id,
        name=name,
        parent=parent,
        position=position,
        usage=usage,
        repeat=repeat,
        path=(parent.path if parent is not None else ()) + (loop_id,),
    )
    built: list[SegmentSlot] = []
    for index, (pos, seg_id, seg_name, seg_usage, max_use, q, elements, path, syntax) in enumerate(
        slots
    ):
        built.append(
            SegmentSlot(
                loop=loop,
                index=index,
                position=pos,
                segment_id=seg_id,
                name=seg_name,
                usage=seg_usage,
                max_use=max_use,
                qualifier=Qualifier(q[0], q[1], q[2], frozenset(q[3])) if q is not None else None,
                elements=tuple(_element_from(e) for e in elements),
                path=path,
                syntax=tuple(SyntaxRule(kind, tuple(positions)) for kind, positions in syntax),
            )
        )
    loop.segments = tuple(built)
    loop.children = tuple(_loop_from(child, loop) for child in children)
    return loop


def from_plain(plain: dict[str, Any]) -> Guide:
    """The guide rebuilt from :func:`to_plain`'s tables; ``ValueError`` for any other shape."""
    if not isinstance(plain, dict) or plain.get("format") != FORMAT:
        raise ValueError("not a compiled-guide file of this format")
    try:
        return assemble(str(plain["id"]), str(plain["name"]), _loop_from(plain["root"], None))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"malformed compiled-guide file: {exc}") from None


def read(path: Path) -> Guide | None:
    """The guide stored at ``path``; ``None`` when it is absent, unreadable or malformed."""
    try:
        with open(path, encoding="utf-8") as fd:
            return from_plain(json.load(fd))
    except (OSError, ValueError, RecursionError):
        return None


def write(path: Path, guide: Guide) -> None:
    """Store ``guide`` at ``path`` atomically; a folder that cannot be written is no error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".guide-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(to_plain(guide), out, separators=(",", ":"))
            # Readers see the old file or the whole new one, never a half-written one.
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass
