"""Explanations and why-not answers as plain text, in English or Chinese."""

from __future__ import annotations

import json

from kam_policy.engine.decision import Conclusion
from kam_policy.explain.conditions import sentence
from kam_policy.explain.messages import catalogue
from kam_policy.explain.proof import Explanation, ProofNode
from kam_policy.explain.whynot import WhyNot


def conclusion_text(conclusion: Conclusion) -> str:
    values = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}"
                       for k, v in conclusion.values.items())
    return f"{conclusion.name}({values})"


def render_explanation(explanation: Explanation, lang: str) -> str:
    """Each conclusion as a proof tree of plain sentences."""
    words = catalogue(lang)
    if not explanation.proofs:
        return str(words["no_conclusions"])
    blocks = []
    for proof in explanation.proofs:
        head = f"{conclusion_text(proof.conclusion)} — {words['about']} {proof.conclusion.subject}"
        blocks.append("\n".join([head, *_proof_lines(proof, lang, 1)]))
    return "\n\n".join(blocks)


def _proof_lines(proof: ProofNode, lang: str, depth: int) -> list[str]:
    words = catalogue(lang)
    pad = "  " * depth
    title = f" “{proof.title}”" if proof.title else ""
    lines = [f"{pad}← {words['rule']} {proof.rule_id}{title} ({proof.file}:{proof.line})"]
    if proof.reason:
        lines.append(f"{pad}  {words['because']}: {proof.reason}")
    for condition in proof.conditions:
        mark = "✓" if condition.holds else "✗"
        lines.append(f"{pad}  {mark} {sentence(condition, lang)}  "
                     f"[{condition.file}:{condition.line}]")
    for hit in proof.tables:
        lines.append(f"{pad}  {hit.binding} = {hit.value} ← {words['table']} {hit.table} "
                     f"{words['row'].format(n=hit.row)} ({hit.file}:{hit.line})")
        for condition in hit.conditions:
            lines.append(f"{pad}    ✓ {sentence(condition, lang)}")
    for premise in proof.premises:
        lines.append(f"{pad}  ← {conclusion_text(premise.conclusion)} "
                     f"({words['about']} {premise.conclusion.subject})")
        lines.extend(_proof_lines(premise, lang, depth + 2))
    return lines


def render_why_not(answer: WhyNot, lang: str) -> str:
    """Every rule that could emit the conclusion, with the unmet conditions."""
    words = catalogue(lang)
    subject = f"{answer.subject[0]}:{answer.subject[1]}"
    lines = [str(words["why_not_title"].format(name=answer.name, subject=subject))]
    for present in answer.present:
        lines.append(str(words["has_conclusion"].format(
            subject=subject, conclusion=conclusion_text(present))))
    if not answer.rules:
        lines.append(str(words["no_rule"].format(name=answer.name)))
    for rule in answer.rules:
        where = f"{rule.file}:{rule.line}"
        if rule.fired:
            lines.append(str(words["rule_fired"].format(rule=rule.rule_id, where=where,
                                                        subject=subject)))
        if not rule.attempts and (rule.fired or answer.present):
            continue
        if not rule.attempts:
            key = "filtered" if rule.filtered else "no_candidate"
            lines.append(str(words[key].format(rule=rule.rule_id, where=where, subject=subject,
                                               source=rule.source, count=rule.filtered)))
            continue
        for attempt in rule.attempts:
            lines.append(str(words["did_not_fire"].format(
                rule=rule.rule_id, title=rule.title or "", where=where, item=attempt.item)))
            for unmet in attempt.unmet:
                lines.append(f"  ✗ {sentence(unmet, lang)}  [{unmet.file}:{unmet.line}]")
            for miss in attempt.rows:
                lines.append("    " + str(words["row_miss"].format(
                    table=miss.table, row=words["row"].format(n=miss.row), wanted=miss.wanted,
                    where=f"{miss.file}:{miss.line}")))
                for unmet in miss.unmet:
                    lines.append(f"      ✗ {sentence(unmet, lang)}")
    return "\n".join(lines)
