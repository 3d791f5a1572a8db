"""What every lint pass reads: the policy, its reference index, a constant folder, options."""

from __future__ import annotations

from dataclasses import dataclass

from kam_policy.engine.policy import Policy
from kam_policy.grammar.span import Span
from kam_policy.lint.fold import Folder
from kam_policy.lint.index import PolicyIndex


@dataclass
class LintContext:
    """The inputs of the lint passes, built once per ``lint`` call."""

    policy: Policy
    index: PolicyIndex
    folder: Folder
    protected: frozenset[str]

    @classmethod
    def build(cls, policy: Policy, protected: frozenset[str]) -> LintContext:
        index = PolicyIndex(policy.declarations, policy.sources)
        return cls(policy, index, Folder(policy), protected)

    def text(self, span: Span) -> str:
        """The source text ``span`` covers, with runs of white space made one space."""
        return " ".join(span.text(self.policy.sources.get(span.source, "")).split())
