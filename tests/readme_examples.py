"""The README's terminal examples, run for real: a test compares them, ``make docs`` rewrites them.

An example is a fenced block whose first line starts with ``$ edi837``. Each ``$`` line is a
command run from the repository root; the lines up to the next ``$`` line are what it
printed (standard error and standard output, as a terminal shows them). ``$ echo $?`` prints
the previous command's exit code, and a trailing ``| sed -n 'A,Bp'`` keeps lines A to B.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

_BLOCK = re.compile(r"^```\n(\$ edi837 .*?)^```\n", re.MULTILINE | re.DOTALL)
_SED = re.compile(r"\s*\|\s*sed -n '(\d+),(\d+)p'\s*$")


@dataclass
class Example:
    """One fenced block: its place in the README and its text."""

    start: int
    end: int
    text: str


def examples(readme: str) -> list[Example]:
    """Every terminal example of the README, in order."""
    return [Example(m.start(1), m.end(1), m.group(1)) for m in _BLOCK.finditer(readme)]


def commands(text: str) -> list[str]:
    """The ``$`` lines of one example, without the prompt."""
    return [line[2:] for line in text.splitlines() if line.startswith("$ ")]


def run(text: str) -> str:
    """Run the example's commands and return the block as they print it now."""
    from edi837.cli import main

    lines: list[str] = []
    code = 0
    for command in commands(text):
        lines.append(f"$ {command}")
        if command == "echo $?":
            lines.append(str(code))
            continue
        window = None
        match = _SED.search(command)
        if match:
            window = (int(match.group(1)), int(match.group(2)))
            command = command[: match.start()]
        args = shlex.split(command)[1:]
        result = CliRunner().invoke(main, args, color=False)
        code = result.exit_code
        output = result.output.splitlines()
        if window is not None:
            output = output[window[0] - 1 : window[1]]
        lines.extend(output)
    return "\n".join(lines) + "\n"


def refreshed(readme: str) -> str:
    """The README with every example's output replaced by what the commands print now."""
    parts: list[str] = []
    last = 0
    for example in examples(readme):
        parts.append(readme[last : example.start])
        parts.append(run(example.text))
        last = example.end
    parts.append(readme[last:])
    return "".join(parts)


if __name__ == "__main__":
    import os

    os.chdir(ROOT)
    new = refreshed(README.read_text(encoding="utf-8"))
    if "--check" in sys.argv:
        sys.exit(0 if new == README.read_text(encoding="utf-8") else 1)
    README.write_text(new, encoding="utf-8")
