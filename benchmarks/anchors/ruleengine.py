"""rule-engine (pure Python, expressions over dicts): each part of the policy as a ``Rule``
evaluated against the pre-joined record; tables are lists of rules tried in order.

rule-engine computes with ``Decimal`` (28 digits, as the spec's exactness note describes) and
has datetimes and timedeltas, so W3 reads the aware datetimes directly. Timed Python glue:
choosing the rules of the application's role (W2), collecting the results into conclusions,
rounding reported values half up, and counting complaints per client for ``account_review``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rule_engine import Rule

from benchmarks import data, handwritten
from benchmarks.anchors import Conclusion, Impl, Record, joined_w1, joined_w2, joined_w3

CENT = Decimal("0.01")
DIMS = data.DIMENSIONS


# ---- W1 -----------------------------------------------------------------------------------------


DIMENSION = ("(0.5 * supervisor + (peer == null ? 0 : 0.2 * peer)"
             " + (client == null ? 0 : 0.3 * client))"
             " / (0.5 + (peer == null ? 0 : 0.2) + (client == null ? 0 : 0.3))")
KEYS = ("p", "a", "t", "s")


def _total(role: str) -> Rule:
    weights = handwritten.ROLE_WEIGHTS[role]
    terms = " + ".join(f"{w} * {k}" for w, k in zip(weights, KEYS, strict=True))
    return Rule(f"({terms}) / 100")


class W1:
    """missing -> dimension scores -> total (per role) -> grade table (first match) -> bonus."""

    def __init__(self) -> None:
        names = ", ".join(f"'{d}'" for d in DIMS)
        self.missing = Rule(f"[d for d in [{names}] if scores[d]['supervisor'] == null]")
        self.dimension = Rule(DIMENSION)
        self.totals = {role: _total(role) for role in handwritten.ROLE_WEIGHTS}
        self.grades = [("S", Rule("total >= 95 and sat >= 90")), ("A", Rule("total >= 85")),
                       ("B", Rule("total >= 70")), ("C", Rule("total >= 60")),
                       ("D", Rule("true"))]

    def decide(self, record: Record, out: list[Conclusion]) -> None:
        aid, role = record["id"], record["role"]
        missing = list(self.missing.evaluate(record))
        if missing or role is None:
            out.append(("appraisal_incomplete", "appraisal", aid,
                        {"missing": missing + ([] if role else ["role"])}))
            return
        scores = record["scores"]
        dims = {k: self.dimension.evaluate(scores[d]) for k, d in zip(KEYS, DIMS, strict=True)}
        scored = {"total": self.totals[role].evaluate(dims), "sat": dims["s"]}
        grade = next(g for g, rule in self.grades if rule.matches(scored))
        score = scored["total"].quantize(CENT, ROUND_HALF_UP)
        out.append(("grade", "appraisal", aid, {"kind": "monthly", "period": record["period"],
                                                "grade": grade, "score": str(score)}))
        bonus = record["bonus"]
        amount = None if bonus is None else str(
            (handwritten.MULTIPLIERS[grade] * bonus).quantize(CENT, ROUND_HALF_UP))
        out.append(("bonus", "appraisal", aid, {"period": record["period"], "amount": amount,
                                                "multiplier": handwritten.MULTIPLIER_TEXT[grade]}))


# ---- W2 -----------------------------------------------------------------------------------------


class W2:
    """Per role: one rule per requirement (true when unmet) and a preferred-major pattern."""

    def __init__(self) -> None:
        self.checks: dict[str, list[tuple[str, Rule]]] = {}
        self.preferred: dict[str, Rule] = {}
        educations = ("high_school", "associate", "bachelor", "master", "doctorate")
        for role, requirement in handwritten.REQUIREMENTS.items():
            rank, field, least, ka_field, ka_least, majors = requirement
            ok = ", ".join(f"'{e}'" for e in educations[rank:])
            checks = [("education", Rule(f"education not in [{ok}]")),
                      ("experience", Rule(f"{field} < {least}"))]
            if ka_field is not None:
                checks.append(("ka_experience", Rule(f"{ka_field} < {ka_least}")))
            self.checks[role] = checks
            pattern = "|".join(sorted(majors))
            self.preferred[role] = Rule(f"major =~ '(?i)^\\\\s*({pattern})\\\\s*$'")

    def decide(self, record: Record, out: list[Conclusion]) -> None:
        role, pid = record["role"], record["id"]
        reasons = [code for code, rule in self.checks[role] if rule.matches(record)]
        if reasons:
            out.append(("ineligible", "application", pid, {"role": role, "reasons": reasons}))
            return
        out.append(("eligible", "application", pid, {"role": role}))
        if self.preferred[role].matches(record):
            out.append(("preferred_candidate", "application", pid, {"role": role}))


# ---- W3 -----------------------------------------------------------------------------------------

RESOLUTION = "((resolved_at == null ? now : resolved_at) - opened_at)"
RESPONSE = ("((first_response_at == null ? (resolved_at == null ? now : resolved_at)"
            " : first_response_at) - opened_at)")


def _hours(delta: Any) -> str:
    return f"t'PT{int(delta.total_seconds()) // 3600}H'"


class W3:
    """Per severity: the escalation levels as rules tried from the highest; task force,
    client notice and the account-review window as rules of their own."""

    def __init__(self) -> None:
        self.levels: dict[str, list[tuple[int, Rule]]] = {}
        for severity, (respond, resolve) in data.LIMITS.items():
            self.levels[severity] = [
                (3, Rule(f"{RESOLUTION} > {_hours(2 * resolve)} or reopened_count >= 2")),
                (2, Rule(f"{RESOLUTION} > {_hours(resolve)} or reopened_count >= 1")),
                (1, Rule(f"{RESPONSE} > {_hours(respond)}"))]
        self.task_force = Rule("severity in ['major', 'critical']")
        self.notice = Rule("resolved_at != null and client_notified_at == null"
                           " and now - resolved_at > t'PT24H'")
        self.window = Rule("opened_at > now - t'P30D' and opened_at <= now")
        self.in_window: list[str] = []

    def decide(self, record: Record, out: list[Conclusion]) -> None:
        cid = record["id"]
        if self.task_force.matches(record):
            out.append(("task_force", "complaint", cid, {}))
        level = next((lvl for lvl, rule in self.levels[record["severity"]]
                      if rule.matches(record)), 0)
        if level:
            values: dict[str, Any] = {"level": level, "to": TARGETS[level]}
            if level == 1:
                values["manager_id"] = record["manager_id"]
            out.append(("escalation", "complaint", cid, values))
        if self.notice.matches(record):
            out.append(("client_notice_overdue", "complaint", cid, {}))
        if self.window.matches(record):
            self.in_window.append(record["client_id"])


TARGETS = {1: "manager", 2: "department_head", 3: "executive"}


# ---- W4 -----------------------------------------------------------------------------------------


def w4_rules(rules: Sequence[data.W4Rule]) -> list[tuple[str, Rule]]:
    """One rule-engine Rule per W4 rule, in order."""
    return [(r.owner, Rule(f"region == '{r.region}' and tier == '{r.tier}'")) for r in rules]


def w4_run(compiled: Sequence[tuple[str, Rule]], clients: Sequence[Record]) -> list[Conclusion]:
    """Scan the rules in order for each client; the first match names the owner."""
    out: list[Conclusion] = []
    for client in clients:
        for owner, rule in compiled:
            if rule.matches(client):
                out.append(("owner", "client", client["id"], {"owner_id": owner}))
                break
    return out


# ---- runners ------------------------------------------------------------------------------------


def _w3_records(facts: data.Facts) -> list[Record]:
    return [dict(r, now=data.NOW) for r in joined_w3(facts)]


def build(workload: str, facts: data.Facts) -> Impl:
    if workload == "W1":
        engine: Any = W1()
        records = joined_w1(facts)
    elif workload == "W2":
        engine, records = W2(), joined_w2(facts)
    else:
        engine, records = W3(), _w3_records(facts)

    def run(batch: list[Record]) -> list[Conclusion]:
        out: list[Conclusion] = []
        if workload == "W3":
            engine.in_window = []
        for record in batch:
            engine.decide(record, out)
        if workload == "W3":
            out.extend(("account_review", "client", client, {})
                       for client, count in Counter(engine.in_window).items() if count >= 3)
        return out

    return Impl("rule-engine", run, records, lambda r: engine.decide(r, []), records[:2000],
                "Rule.evaluate / Rule.matches per fact")
