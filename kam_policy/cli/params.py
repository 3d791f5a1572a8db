"""``kam-policy params``: every parameter, its value, where the value comes from, and the rules
that use it (directly or through the defines and tables they call)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kam_policy.cli.common import EXIT_OK, add_policy_options, load_policy
from kam_policy.cli.table import format_table
from kam_policy.engine.params import ParamValue, _toml_line, to_toml_value
from kam_policy.engine.types import Type
from kam_policy.lint import ParamUse, param_uses
from kam_policy.lint.fold import show_value
from kam_policy.lint.index import PolicyIndex


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "params", help="list parameters: value, origin (default or parameters file) and users")
    add_policy_options(parser)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args)
    uses = param_uses(PolicyIndex(policy.declarations, policy.sources))
    overrides = Path(args.params).read_text("utf-8") if args.params else ""
    entries = [describe(policy.params[name], uses[name], overrides) for name in policy.params]
    if args.format == "json":
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return EXIT_OK
    rows = [(e["name"], e["type"], _origin_text(e), ", ".join(e["used_by"]) or "(no rule)",
             format_value(policy.params[e["name"]])) for e in entries]
    print(format_table(("parameter", "type", "origin", "used by", "value"), rows))
    return EXIT_OK


def describe(param: ParamValue, use: ParamUse, overrides: str) -> dict[str, Any]:
    """One parameter as a JSON-ready dict: name, type, value, origin, source and users."""
    if param.origin == "default":
        origin, source = "default", {"file": param.span.source, "line": param.span.line}
    else:
        where = _toml_line(overrides, param.name, param.origin)
        origin, source = "file", {"file": param.origin, "line": where.line if where else None}
    return {"name": param.name, "type": type_text(param.type),
            "value": to_toml_value(param.value, param.type), "origin": origin, "source": source,
            "used_by": list(use.rules), "functions": list(use.functions)}


def format_value(param: ParamValue) -> str:
    """A value as a rule file writes it: durations as 4h, decimals exact, enum members bare."""
    return show_value(param.value, param.type)


def type_text(kind: Type) -> str:
    """A parameter's type for people: ``map[enum, duration]``, ``list[enum]``, ``number``."""
    if kind.kind == "list":
        return f"list[{type_text(kind.args[0])}]"
    if kind.kind == "map":
        return f"map[{type_text(kind.args[0])}, {type_text(kind.args[1])}]"
    return "enum" if kind.kind == "symbol" else str(kind)


def _origin_text(entry: dict[str, Any]) -> str:
    source = entry["source"]
    where = f"{source['file']}:{source['line']}" if source["line"] else source["file"]
    return f"default ({where})" if entry["origin"] == "default" else where


__all__ = ["describe", "format_value", "register", "run", "type_text"]
