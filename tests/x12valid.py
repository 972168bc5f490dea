"""pyx12's ``x12valid`` as an outside judge of files this project writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

X12VALID = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "x12valid"


def verdict(path: Path, workdir: Path) -> str:
    """``OK`` or ``Failure`` for a copy of ``path`` (x12valid writes a .997 next to its input)."""
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / path.name
    shutil.copyfile(path, copy)
    proc = subprocess.run(
        [str(X12VALID), copy.name], cwd=workdir, capture_output=True, text=True, check=False
    )
    # x12valid prints "FILE: OK" or "FILE: Failure"; its exit status does not tell them apart.
    verdicts = [line for line in proc.stderr.splitlines() if line.startswith(f"{copy.name}: ")]
    return verdicts[-1].split(": ", 1)[1] if verdicts else proc.stderr
