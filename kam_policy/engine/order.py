"""Rule ordering: a rule that reads a conclusion runs after every rule that emits it.

The dependency graph must be acyclic; each cycle is reported once, naming its rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from kam_policy.engine.compile_rules import CompiledRule
from kam_policy.errors import Diagnostic


def order_rules(rules: Sequence[CompiledRule],
                diagnostics: list[Diagnostic]) -> list[CompiledRule]:
    """Rules in an order where producers precede consumers; file order breaks ties."""
    producers: dict[str, list[int]] = {}
    for index, rule in enumerate(rules):
        for name in rule.writes:
            producers.setdefault(name, []).append(index)
    depends = [sorted({p for name in rule.reads for p in producers.get(name, ())})
               for rule in rules]
    for cycle in _cycles(depends):
        names = [rules[i].id for i in cycle]
        via = sorted({n for i in cycle for n in rules[i].reads if n in
                      {w for j in cycle for w in rules[j].writes}})
        diagnostics.append(Diagnostic(
            "check.cycle", f"rules depend on each other in a cycle: {' -> '.join(names)} -> "
            f"{names[0]} (through {', '.join(via)})", rules[cycle[0]].span,
            "a conclusion may not depend, directly or indirectly, on itself"))
    ordered: list[int] = []
    done: set[int] = set()
    visiting: set[int] = set()

    def visit(index: int) -> None:
        if index in done or index in visiting:
            return
        visiting.add(index)
        for dep in depends[index]:
            visit(dep)
        visiting.discard(index)
        done.add(index)
        ordered.append(index)

    for index in range(len(rules)):
        visit(index)
    return [rules[i] for i in ordered]


def _cycles(depends: list[list[int]]) -> list[list[int]]:
    """Strongly connected components with a cycle (Tarjan), each in discovery order."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    found: list[list[int]] = []
    counter = 0

    def strongconnect(node: int) -> None:
        nonlocal counter
        index_of[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for dep in depends[node]:
            if dep not in index_of:
                strongconnect(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index_of[dep])
        if low[node] == index_of[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in depends[node]:
                found.append(sorted(component))

    for node in range(len(depends)):
        if node not in index_of:
            strongconnect(node)
    return found
