"""Python source for rules and defines: the fast path of evaluation when no tracer listens.

The checker gives most expressions a Python expression text (``Typed.code``) beside their
closure (``Typed.fn``); a rule becomes one Python function, so evaluating it costs no closure
call per node. Bindings (``for c in``, ``let``, a define's parameters, an aggregate's
variable) are Python locals; a closure called from generated code gets them as its ``env``.

The text is built from the checker's own decisions and never from rule-file text: every value
a rule file writes (literals, parameter values, names of bindings, map keys) is passed in as a
constant of the function's namespace or written with ``repr`` of a ``str`` (always a plain
string literal); binding names become ``v_name`` or a hex spelling; attribute names come from
the fact models and are used only if they are plain ASCII identifiers. Generated functions run
with empty builtins, so they reach nothing but their constants. An expression the generator
does not cover calls its closure, so both paths share one meaning; ``tests/test_codegen.py``
checks they agree.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable
from typing import Any

_SMALL = 10**18


class Namespace:
    """The globals of a policy's generated functions: constants by generated name."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {"__builtins__": {}}
        self._temps = 0

    def const(self, value: Any) -> str:
        """A name under which generated code reads ``value``."""
        name = f"_k{len(self.values)}"
        self.values[name] = value
        return name

    def literal(self, value: Any) -> str:
        """``value`` written as a Python literal if it is a small plain one (read faster than a
        constant), else as a constant."""
        kind = type(value)
        if value is None or kind is bool or kind is str or (
                kind is int and -_SMALL < value < _SMALL):
            return repr(value)
        return self.const(value)

    def temp(self) -> str:
        """A fresh local name for an intermediate value (``(_t1 := ...)``)."""
        self._temps += 1
        return f"_t{self._temps}"

    def function(self, name: str, params: str, lines: list[str]) -> Callable[..., Any]:
        """Define ``def name(params): lines`` in this namespace and return it."""
        source = f"def {name}({params}):\n" + "".join(f"    {line}\n" for line in lines)
        code = compile(source, f"<kam_policy {name}>", "exec")
        exec(code, self.values)  # safe: compiler-written source, rule-file values are constants
        function: Callable[..., Any] = self.values.pop(name)
        return function


def binding(name: str) -> str:
    """The Python local holding the rule-file binding ``name``: ``v_`` and the name if it is
    a plain ASCII identifier, else ``u_`` and its UTF-8 bytes in hex (so never a keyword, and
    never one of the generated names ``ctx``, ``items``, ``_item``, ``fired``, ``_k1``, ``_t1``)."""
    if name.isascii() and name.isidentifier():
        return f"v_{name}"
    return f"u_{name.encode('utf-8').hex()}"


def env_code(names: Iterable[str]) -> str:
    """Code building the ``env`` dict of the closures from the locals of ``names``."""
    return "{" + ", ".join(f"{name!r}: {binding(name)}" for name in names) + "}"


def plain_attribute(name: str) -> bool:
    """True if ``name`` can be written as ``obj.name`` in generated code."""
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


__all__ = ["Namespace", "binding", "env_code", "plain_attribute"]
