"""Reading a policy's files: the entry file, its includes (confined to the policy folder),
and the digest of the exact sources."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kam_policy.engine.gc_pause import gc_paused
from kam_policy.errors import Diagnostic, PolicyError, PolicyLoadError
from kam_policy.grammar import ast
from kam_policy.grammar.parse import parse
from kam_policy.grammar.span import Span

ENTRY_FILE = "policy.kp"
MAX_INCLUDE_DEPTH = 16
MAX_FILES = 256


@dataclass
class PolicySources:
    """The parsed modules of one policy, its texts by relative name, and parse diagnostics."""

    root: Path
    modules: list[ast.Module] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def digest(self) -> str:
        """sha256 over every file's relative name and exact bytes, in name order."""
        hasher = hashlib.sha256()
        for name in sorted(self.texts):
            hasher.update(name.encode("utf-8") + b"\0")
            hasher.update(self.texts[name].encode("utf-8") + b"\0")
        return hasher.hexdigest()


def bundled_policy_path() -> Path:
    """The folder of the bundled company policy."""
    return Path(str(resources.files("kam_policy.rules")))


def read_policy(path: str | Path | None) -> PolicySources:
    """Read and parse a policy: a folder (its ``policy.kp``) or an entry file, with includes."""
    entry = Path(path) if path is not None else bundled_policy_path()
    if entry.is_dir():
        entry = entry / ENTRY_FILE
    if not entry.is_file():
        raise PolicyLoadError([Diagnostic("load.not-found", f"no policy file at {entry}", None,
                                          f"a policy folder holds {ENTRY_FILE}")])
    sources = PolicySources(entry.parent.resolve())
    target = entry.resolve()
    if not target.is_relative_to(sources.root):
        raise PolicyLoadError([Diagnostic(
            "load.include-outside", f"{entry.name} links to a file outside the policy folder",
            None, "keep the rule files themselves inside the policy folder")])
    with gc_paused():  # a large policy's AST is millions of objects that all survive
        _read(sources, target, None, [])
    return sources


def _read(sources: PolicySources, file: Path, via: ast.Include | None, chain: list[Path]) -> None:
    name = file.relative_to(sources.root).as_posix()
    if name in sources.texts:
        return
    if len(sources.texts) >= MAX_FILES:
        _fail(sources, "load.too-many-files", f"a policy has at most {MAX_FILES} files", via)
        return
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        _fail(sources, "load.encoding", f"{name} is not UTF-8 text (byte {error.start})", via)
        return
    except OSError as error:
        _fail(sources, "load.unreadable", f"cannot read {name}: {error.strerror}", via)
        return
    text = text.removeprefix("\ufeff")
    sources.texts[name] = text
    try:
        module = parse(text, name)
    except PolicyError as error:
        sources.diagnostics.extend(error.diagnostics)
        return
    sources.modules.append(module)
    for item in module.items:
        if isinstance(item, ast.Include):
            target = _resolve_include(sources, file, item, chain)
            if target is not None:
                _read(sources, target, item, [*chain, file])


def _resolve_include(sources: PolicySources, file: Path, item: ast.Include,
                     chain: list[Path]) -> Path | None:
    if "\0" in item.path or len(item.path) > 255 or not item.path.strip():
        _fail(sources, "load.include-missing", f"include \"{item.path[:60]}\" is not a valid "
              "file name", item)
        return None
    written = Path(item.path)
    if written.is_absolute() or item.path.startswith(("/", "\\")) or ":" in item.path:
        _fail(sources, "load.include-outside", f"include \"{item.path}\" is an absolute path",
              item, "include files by their path relative to the including file")
        return None
    try:
        target = (file.parent / written).resolve()
        exists = target.is_file()
    except (OSError, ValueError, RuntimeError):
        _fail(sources, "load.include-missing", f"included file \"{item.path}\" cannot be read",
              item)
        return None
    if not target.is_relative_to(sources.root):
        _fail(sources, "load.include-outside", f"include \"{item.path}\" leaves the policy "
              "folder", item, f"rule files must stay inside {sources.root.name}/")
        return None
    if target in chain or target == file:
        _fail(sources, "load.include-cycle", f"include \"{item.path}\" includes itself "
              "(an include cycle)", item)
        return None
    if len(chain) >= MAX_INCLUDE_DEPTH:
        _fail(sources, "load.include-depth", f"includes nest deeper than {MAX_INCLUDE_DEPTH}",
              item)
        return None
    if not exists:
        _fail(sources, "load.include-missing", f"included file \"{item.path}\" does not exist",
              item)
        return None
    return target


def _fail(sources: PolicySources, code: str, message: str, item: ast.Include | None,
          hint: str | None = None) -> None:
    span: Span | None = item.span if item is not None else None
    sources.diagnostics.append(Diagnostic(code, message, span, hint))


def sources_from_texts(texts: dict[str, str]) -> PolicySources:
    """Policy sources from recorded texts (a decision log keeps the exact rule files)."""
    sources = PolicySources(Path("."))
    with gc_paused():
        for name in sorted(texts):
            sources.texts[name] = texts[name]
            try:
                sources.modules.append(parse(texts[name], name))
            except PolicyError as error:
                sources.diagnostics.extend(error.diagnostics)
    return sources
