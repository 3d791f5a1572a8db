"""Pass 1 of checking: gather every declaration of a policy into one symbol table."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from kam_policy.engine.builtins import BUILTINS
from kam_policy.engine.types import EnumInfo, FieldInfo, model_fields
from kam_policy.errors import Diagnostic
from kam_policy.facts.schema import FactSchema
from kam_policy.grammar import ast

MAX_RULES = 100_000
# Aggregate names are keywords where an expression starts: a binding of that name could
# never be read back.
RESERVED_WORDS = frozenset({"now", "count", "exists", "all", "none", "sum", "min", "max", "list",
                            "true", "false", "null"})


@dataclass
class Declarations:
    """Everything a policy declares, by name, plus the fact types it is checked against."""

    schema: FactSchema
    header: ast.Header | None = None
    params: dict[str, ast.Param] = field(default_factory=dict)
    enums: dict[str, EnumInfo] = field(default_factory=dict)
    conclusions: dict[str, ast.ConclusionDecl] = field(default_factory=dict)
    defines: dict[str, ast.Define] = field(default_factory=dict)
    tables: dict[str, ast.Table] = field(default_factory=dict)
    rules: list[ast.Rule] = field(default_factory=list)
    facts: dict[str, dict[str, FieldInfo]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)  # enum literal -> enum names

    def enums_with(self, member: str) -> list[str]:
        return self.members.get(member, [])


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, if one is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def gather(modules: Iterable[ast.Module], schema: FactSchema,
           diagnostics: list[Diagnostic]) -> Declarations:
    """Collect the declarations of ``modules``; duplicates and clashes become diagnostics."""
    modules = list(modules)
    decls = Declarations(schema)
    for fact in schema.types:
        decls.facts[fact.name] = model_fields(fact.model, decls.enums)

    seen: dict[str, ast.Node] = {}
    for module in modules:
        for item in module.items:
            _add(decls, item, seen, diagnostics)
    for info in decls.enums.values():
        for member in info.members:
            decls.members.setdefault(member, []).append(info.name)
    for enum in (i for m in modules for i in m.items if isinstance(i, ast.EnumDecl)):
        for member in enum.members:
            if member in RESERVED_WORDS:
                diagnostics.append(Diagnostic(
                    "check.reserved-name", f"enum member '{member}' is a reserved word and "
                    "could never be written", enum.span, "choose another name"))
    check_fields(decls, diagnostics)
    if len(decls.rules) > MAX_RULES:
        diagnostics.append(Diagnostic(
            "check.too-many-rules", f"the policy has {len(decls.rules)} rules; at most "
            f"{MAX_RULES} are allowed", decls.rules[MAX_RULES].span,
            "write repetitive rules as a decision table"))
    return decls


def _add(decls: Declarations, item: ast.Item, seen: dict[str, ast.Node],
         diagnostics: list[Diagnostic]) -> None:
    if isinstance(item, ast.Header):
        if decls.header is not None:
            diagnostics.append(Diagnostic(
                "check.duplicate", "a policy has one 'policy ... version ...' header",
                item.span, f"the header is already at {decls.header.span}"))
        decls.header = item
        return
    if isinstance(item, ast.Include):
        return
    if isinstance(item, ast.Rule):
        key = f"rule {item.id}"
        if _duplicate(key, item, seen, diagnostics, f"rule id '{item.id}'"):
            return
        decls.rules.append(item)
        return
    name = item.name
    namespace = "function" if isinstance(item, ast.Define | ast.Table) else "value"
    if isinstance(item, ast.ConclusionDecl):
        namespace = "conclusion"
    elif isinstance(item, ast.EnumDecl):
        namespace = "type"
    if _duplicate(f"{namespace} {name}", item, seen, diagnostics, f"'{name}'"):
        return
    if name in RESERVED_WORDS or (namespace == "function" and name in BUILTINS):
        diagnostics.append(Diagnostic(
            "check.reserved-name", f"'{name}' is a reserved name", item.span,
            "choose another name"))
        return
    if namespace == "type" and (name in decls.enums or name in decls.facts):
        diagnostics.append(Diagnostic(
            "check.duplicate", f"type '{name}' is already defined by the fact models", item.span,
            "choose another name"))
        return
    _store(decls, item)


def check_fields(decls: Declarations, diagnostics: list[Diagnostic]) -> None:
    """Repeated names inside one declaration; conclusions about unknown fact types."""
    groups: list[tuple[str, tuple[ast.FieldDecl, ...]]] = []
    for conclusion in decls.conclusions.values():
        groups.append((f"conclusion {conclusion.name}", conclusion.fields))
        if conclusion.about not in decls.facts:
            diagnostics.append(Diagnostic(
                "check.unknown-fact", f"conclusion {conclusion.name} is about unknown fact type "
                f"'{conclusion.about}'", conclusion.span,
                did_you_mean(conclusion.about, decls.facts)
                or f"fact types: {', '.join(decls.facts)}"))
    bound: set[int] = set()  # names read back as bindings must not be reserved words
    for define in decls.defines.values():
        groups.append((f"function {define.name}", define.params))
        bound.update(id(p) for p in define.params)
    for table in decls.tables.values():
        groups.append((f"table {table.name}", (*table.inputs, *table.outputs)))
        bound.update(id(p) for p in table.inputs)
    for owner, fields in groups:
        seen: set[str] = set()
        for decl in fields:
            if decl.name in seen:
                diagnostics.append(Diagnostic(
                    "check.duplicate", f"'{decl.name}' appears twice in {owner}", decl.span,
                    "give each name once"))
            elif decl.name in RESERVED_WORDS and id(decl) in bound:
                diagnostics.append(Diagnostic(
                    "check.reserved-name", f"'{decl.name}' is a reserved word", decl.span,
                    "choose another name"))
            seen.add(decl.name)


def _store(decls: Declarations, item: ast.Item) -> None:
    if isinstance(item, ast.Param):
        decls.params[item.name] = item
    elif isinstance(item, ast.EnumDecl):
        rank = {m: i for i, m in enumerate(item.members)} if item.ordered else None
        decls.enums[item.name] = EnumInfo(item.name, item.members, rank)
    elif isinstance(item, ast.ConclusionDecl):
        decls.conclusions[item.name] = item
    elif isinstance(item, ast.Define):
        decls.defines[item.name] = item
    elif isinstance(item, ast.Table):
        decls.tables[item.name] = item


def _duplicate(key: str, item: ast.Node, seen: dict[str, ast.Node],
               diagnostics: list[Diagnostic], what: str) -> bool:
    first = seen.get(key)
    if first is None:
        seen[key] = item
        return False
    diagnostics.append(Diagnostic(
        "check.duplicate", f"{what} is defined twice", getattr(item, "span", None),
        f"it is first defined at {getattr(first, 'span', '?')}"))
    return True
