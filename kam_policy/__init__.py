"""kam_policy: a rules engine and policy language for key-account (大客户) staff management.

Typical use::

    import datetime as dt
    import kam_policy

    policy = kam_policy.load()                      # the bundled company policy
    decision = policy.decide(facts, now=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC))
    for conclusion in decision.conclusions:
        print(conclusion.name, conclusion.subject, conclusion.values, conclusion.rule_id)
"""

from kam_policy.engine.decision import Conclusion, Decision, PolicyInfo, Subject
from kam_policy.engine.policy import Policy, load
from kam_policy.engine.sources import bundled_policy_path
from kam_policy.engine.trace import RecordingTracer, Tracer
from kam_policy.errors import (
    Diagnostic,
    FactError,
    FactIssue,
    KamPolicyError,
    ParameterError,
    PolicyCheckError,
    PolicyError,
    PolicyEvalError,
    PolicyLoadError,
    PolicySyntaxError,
)
from kam_policy.facts import FactSchema, FactSet, FactType, bundled_schema, validate_facts
from kam_policy.grammar.parse import parse

__version__ = "0.1.0"

__all__ = [
    "Conclusion",
    "Decision",
    "Diagnostic",
    "FactError",
    "FactIssue",
    "FactSchema",
    "FactSet",
    "FactType",
    "KamPolicyError",
    "ParameterError",
    "Policy",
    "PolicyCheckError",
    "PolicyError",
    "PolicyEvalError",
    "PolicyInfo",
    "PolicyLoadError",
    "PolicySyntaxError",
    "RecordingTracer",
    "Subject",
    "Tracer",
    "__version__",
    "bundled_policy_path",
    "bundled_schema",
    "load",
    "parse",
    "validate_facts",
]
