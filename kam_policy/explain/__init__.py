"""Explanations for people: proof trees of conclusions, and why-not answers."""

from kam_policy.explain.proof import Explanation, ProofNode, explain
from kam_policy.explain.render import render_explanation, render_why_not
from kam_policy.explain.whynot import WhyNot, why_not

__all__ = ["Explanation", "ProofNode", "WhyNot", "explain", "render_explanation",
           "render_why_not", "why_not"]
