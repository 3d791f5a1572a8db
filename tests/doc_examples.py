"""Runs the examples of a Markdown page: its files, its edits of the bundled rule files and its
``$ kam-policy ...`` commands, comparing each command's output with the page.

A page is read top to bottom, in a scratch folder holding a copy of the bundled policy at
``kam_policy/rules/``:

- a fenced block preceded by a line ```` `demo/policy.kp`: ```` (a file name in backquotes and
  a colon) is written to that file;
- a fenced block preceded by ``<!-- file: NAME -->`` is written to NAME, and one preceded by
  ``<!-- edit: NAME -->`` replaces, in NAME, the declaration that starts with the block's first
  line (up to its closing ``}``, or its indented continuation lines);
- a fenced block preceded by ``<!-- in: NAME -->`` must appear in NAME as it is now (after the
  commands before it, e.g. ``kam-policy fmt``);
- ``<!-- copy: FROM TO -->`` copies a folder, ``<!-- reset -->`` restores the pristine copy of
  the bundled policy (``examples/company.json`` is there too);
- a ``kp`` block with none of these must appear in a bundled rule file as it is (a line ``...``
  stands for lines left out);
- a fenced block whose first line starts with ``$ kam-policy`` is a command; what follows it is
  the output (stderr, then stdout). A line ``...`` stands for any number of lines, and ``…``
  for any text within a line; without them, the output must be exactly the same. Several
  ``$`` lines make several commands. A command ending in ``# exit N`` must exit with N; the
  others with 0 (where exit codes are checked).

Blocks whose command output says "shortened here" are illustrations, not checked.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kam_policy.engine.sources import bundled_policy_path

RULES = Path("kam_policy") / "rules"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_NAMED = re.compile(r"^`([\w./-]+)`:\s*$")
_COMMENT = re.compile(r"^<!--\s*(file|edit|in|copy|reset)\s*:?\s*([\w./ -]*?)\s*-->\s*$")
_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


@dataclass
class Block:
    """A fenced block and what precedes it."""

    info: str
    lines: list[str]
    line: int  # where the block starts in the page (1-based)
    named: str | None = None  # `demo/policy.kp`:
    action: tuple[str, str] | None = None  # ("file" | "edit" | "in", name)


@dataclass
class Command:
    """One ``$ kam-policy`` line and the output the page shows for it."""

    argv: list[str]
    expected: list[str]
    line: int
    exit: int = 0


@dataclass
class Step:
    """What the runner does, in page order."""

    kind: str  # "write", "edit", "in", "copy", "reset", "quote", "run"
    line: int
    name: str = ""
    text: str = ""
    commands: list[Command] = field(default_factory=list)


def blocks(text: str) -> Iterator[Block | tuple[str, str]]:
    """The page's fenced blocks, and ``reset`` and ``copy`` markers, in order."""
    lines = text.split("\n")
    index = 0
    pending: tuple[str, str] | None = None
    named: str | None = None
    while index < len(lines):
        line = lines[index]
        comment = _COMMENT.match(line.strip())
        if comment:
            if comment.group(1) in ("reset", "copy"):
                yield comment.group(1), comment.group(2)
            else:
                pending = (comment.group(1), comment.group(2))
            index += 1
            continue
        if _NAMED.match(line.strip()):
            named = _NAMED.match(line.strip()).group(1)  # type: ignore[union-attr]
            index += 1
            continue
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip():
                named = None
            index += 1
            continue
        indent = len(fence.group(1))  # a block inside a list item is indented
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = [line[indent:] for line in lines[index + 1:end]]
        yield Block(fence.group(2), body, index + 1, named, pending)
        pending, named = None, None
        index = end + 1


def steps(text: str) -> list[Step]:
    """The page as steps to run."""
    found: list[Step] = []
    for block in blocks(text):
        if isinstance(block, tuple):
            found.append(Step(block[0], 0, block[1]))
            continue
        body = "\n".join(block.lines) + "\n"
        if block.lines and block.lines[0].startswith("$ kam-policy"):
            found.append(Step("run", block.line, commands=list(_commands(block))))
        elif block.action is not None:
            kind = {"file": "write"}.get(block.action[0], block.action[0])
            found.append(Step(kind, block.line, block.action[1], body))
        elif block.named is not None:
            found.append(Step("write", block.line, block.named, body))
        elif block.info == "kp":
            found.append(Step("quote", block.line, text=body))
    return found


def _commands(block: Block) -> Iterator[Command]:
    current: Command | None = None
    for offset, line in enumerate(block.lines):
        if line.startswith("$ "):
            if current is not None:
                yield current
            exit_code = _EXIT.search(line)
            command = line[2:exit_code.start()] if exit_code else line[2:]
            argv = shlex.split(command)
            current = Command(argv[1:], [], block.line + offset + 1,
                              int(exit_code.group(1)) if exit_code else 0)
        elif current is not None:
            current.expected.append(line)
    if current is not None:
        yield current


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected``: a line ``...`` stands for any lines, a ``…`` in a
    line for any text within the line (such as the scratch folder's path)."""
    if "..." not in expected and not any("…" in line for line in expected):
        return expected == actual
    lines = ["\x00" if line == "..." else ".*?".join(map(re.escape, line.split("…")))
             for line in expected]
    pattern = "\n".join(lines).replace("\n\x00\n", "(?:\n.*)?\n")
    pattern = pattern.replace("\x00\n", "(?:.*\n)?").replace("\n\x00", "(?:\n.*)?")
    return re.fullmatch(pattern.replace("\x00", ".*"), "\n".join(actual), re.DOTALL) is not None


class Page:
    """Runs the steps of one page in ``work``; ``run`` executes one command there."""

    def __init__(self, work: Path, run: Callable[[list[str]], tuple[int, str, str]]) -> None:
        self.work = work
        self.run = run
        self.reset()

    def reset(self) -> None:
        target = self.work / RULES
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(bundled_policy_path(), target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        (self.work / "examples").mkdir(exist_ok=True)
        shutil.copy(EXAMPLES / "company.json", self.work / "examples" / "company.json")

    def copy(self, names: str) -> None:
        source, target = names.split()
        if (self.work / target).exists():
            shutil.rmtree(self.work / target)
        shutil.copytree(self.work / source, self.work / target)

    def write(self, name: str, text: str) -> None:
        path = self.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")

    def edit(self, name: str, text: str) -> None:
        path = self.work / name
        lines = path.read_text("utf-8").split("\n")
        new = text.rstrip("\n").split("\n")
        start = next((i for i, line in enumerate(lines) if line == new[0]), None)
        if start is None:
            head = " ".join(new[0].split()[:2])
            start = next(i for i, line in enumerate(lines) if line.startswith(head + " "))
        end = start + 1
        if lines[start].rstrip().endswith("{"):
            while not lines[end - 1].startswith("}"):
                end += 1
        else:
            while end < len(lines) and lines[end].startswith((" ", "\t")):
                end += 1
        path.write_text("\n".join([*lines[:start], *new, *lines[end:]]), "utf-8")

    def contains(self, name: str, text: str) -> bool:
        """Whether the file ``name`` of the scratch folder holds ``text`` as it is."""
        return text in (self.work / name).read_text("utf-8")

    def quoted(self, text: str) -> bool:
        """Whether a snippet appears in a bundled rule file (``...`` leaves lines out)."""
        chunks = [c.strip("\n") for c in re.split(r"^\s*\.\.\.\s*$", text, flags=re.M)]
        for path in sorted(bundled_policy_path().glob("*.kp")):
            source = path.read_text("utf-8")
            position = 0
            for chunk in chunks:
                found = source.find(chunk, position) if chunk else position
                if found < 0:
                    break
                position = found + len(chunk)
            else:
                return True
        return False


def shortened(command: Command) -> bool:
    return any("shortened here" in line for line in command.expected)
