"""zen-engine (GoRules JDM, Rust): each workload as a decision graph of expression nodes and
first-hit decision tables; throughput through ``evaluate_batch``, latency through
``ZenEngine.evaluate`` (``ZenDecision.evaluate`` costs ~5 ms a call on the 10,000-row W4
table, so the engine's loader path is the fair single-call API).

Inputs are JSON text with the decimals written exactly (zen reads numbers as 28-digit
decimals), datetimes as epoch microseconds. Timed Python glue: turning each result into
conclusions (the reasons list of W2 from three booleans), and counting complaints per client
for ``account_review`` (zen evaluates one context at a time; it decides "in the window").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import zen

from benchmarks import data
from benchmarks.anchors import (
    Conclusion,
    Impl,
    Record,
    cents,
    joined_w1,
    joined_w2,
    joined_w3,
    micros,
)

Graph = dict[str, Any]
BATCH = 2_000


# ---- graph building -----------------------------------------------------------------------------


def _expressions(node_id: str, pairs: Sequence[tuple[str, str]], passthrough: bool) -> Graph:
    items = [{"id": f"{node_id}-{i}", "key": k, "value": v} for i, (k, v) in enumerate(pairs)]
    return {"id": node_id, "type": "expressionNode", "name": node_id,
            "content": {"expressions": items, "passThrough": passthrough}}


def _table(node_id: str, inputs: Sequence[str], outputs: Sequence[str],
           rows: Sequence[Sequence[str]]) -> Graph:
    ins = [{"id": f"{node_id}-i{n}", "name": f, "field": f} for n, f in enumerate(inputs)]
    outs = [{"id": f"{node_id}-o{n}", "name": f, "field": f} for n, f in enumerate(outputs)]
    columns = [c["id"] for c in ins] + [c["id"] for c in outs]
    rules = [{"_id": f"{node_id}-r{n}", **dict(zip(columns, row, strict=True))}
             for n, row in enumerate(rows)]
    return {"id": node_id, "type": "decisionTableNode", "name": node_id,
            "content": {"hitPolicy": "first", "inputs": ins, "outputs": outs, "rules": rules,
                        "passThrough": True, "inputField": None, "outputPath": None,
                        "executionMode": "single"}}


def _graph(*nodes: Graph) -> Graph:
    """input -> nodes in a chain -> output."""
    chain = [{"id": "in", "type": "inputNode", "name": "in"}, *nodes,
             {"id": "out", "type": "outputNode", "name": "out"}]
    edges = [{"id": f"e{i}", "type": "edge", "sourceId": a["id"], "targetId": b["id"]}
             for i, (a, b) in enumerate(pairwise(chain))]
    return {"contentType": "application/vnd.gorules.decision", "nodes": chain, "edges": edges}


def _dimension(d: str) -> str:
    num = f"0.5 * s.{d}.supervisor + 0.2 * (s.{d}.peer ?? 0) + 0.3 * (s.{d}.client ?? 0)"
    den = f"0.5 + (s.{d}.peer == null ? 0 : 0.2) + (s.{d}.client == null ? 0 : 0.3)"
    return f"$.complete ? ({num}) / ({den}) : 0"


def w1_graph() -> Graph:
    dims = '["performance", "attitude", "teamwork", "satisfaction"]'
    weights = _table("weights", ["role"], ["wp", "wa", "wt", "ws"], [
        ['"sales_rep"', "50", "15", "15", "20"],
        ['"project_manager"', "40", "15", "25", "20"],
        ['"after_sales"', "30", "20", "15", "35"],
        ["", "0", "0", "0", "0"]])
    score = _expressions("score", [
        ("missing", f"filter({dims}, s[#].supervisor == null)"),
        ("complete", "len($.missing) == 0 and role != null"),
        ("p", _dimension("performance")), ("a", _dimension("attitude")),
        ("t", _dimension("teamwork")), ("sat", _dimension("satisfaction")),
        ("total", "(wp * $.p + wa * $.a + wt * $.t + ws * $.sat) / 100")], True)
    grade = _table("grade", ["total", "sat"], ["grade", "multiplier"], [
        [">= 95", ">= 90", '"S"', "1.5"], [">= 85", "", '"A"', "1.2"],
        [">= 70", "", '"B"', "1"], [">= 60", "", '"C"', "0.6"], ["", "", '"D"', "0"]])
    bonus = _expressions("bonus", [
        ("missing", "missing"), ("complete", "complete"), ("grade", "grade"),
        ("score", "round(total, 2)"), ("multiplier", "multiplier"),
        ("amount", "bonus == null ? null : round(multiplier * bonus, 2)")], False)
    return _graph(weights, score, grade, bonus)


def w2_graph() -> Graph:
    requirements = _table("requirements", ["role"], ["educations", "years", "least", "ka",
                                                     "ka_least", "majors"], [
        ['"sales_rep"', '["bachelor", "master", "doctorate"]', "sales_years", "3",
         "ka_sales_years", "1", '["marketing", "business management"]'],
        ['"project_manager"', '["bachelor", "master", "doctorate"]', "pm_years", "3",
         "ka_project_years", "1", '["project management", "computer science"]'],
        ['"after_sales"', '["associate", "bachelor", "master", "doctorate"]',
         "after_sales_years", "2", "null", "null", '["computer science", "electronics"]']])
    check = _expressions("check", [
        ("education_ok", "education in educations"),
        ("experience_ok", "years >= least"),
        ("ka_ok", "ka_least == null or ka >= ka_least"),
        ("preferred", "contains(majors, lower(trim(major)))")], False)
    return _graph(requirements, check)


def w3_graph() -> Graph:
    hour = 3_600_000_000
    limits = _table("limits", ["severity"], ["respond", "resolve", "serious"], [
        ['"minor"', str(24 * hour), str(120 * hour), "false"],
        ['"general"', str(8 * hour), str(72 * hour), "false"],
        ['"major"', str(4 * hour), str(48 * hour), "true"],
        ['"critical"', str(1 * hour), str(24 * hour), "true"]])
    times = _expressions("times", [
        ("response", "(first_response_at ?? resolved_at ?? now) - opened_at"),
        ("resolution", "(resolved_at ?? now) - opened_at"),
        ("very_late", "$.resolution > 2 * resolve"), ("late", "$.resolution > resolve"),
        ("slow", "$.response > respond")], True)
    level = _table("level", ["very_late", "reopened_count", "late", "slow"], ["level"], [
        ["true", "", "", "", "3"], ["", ">= 2", "", "", "3"], ["", "", "true", "", "2"],
        ["", ">= 1", "", "", "2"], ["", "", "", "true", "1"], ["", "", "", "", "0"]])
    result = _expressions("result", [
        ("level", "level"), ("task_force", "serious"),
        ("notice_overdue", f"resolved_at != null and client_notified_at == null "
                           f"and now - resolved_at > {24 * hour}"),
        ("in_window", f"opened_at > now - {30 * 24 * hour} and opened_at <= now")], False)
    return _graph(limits, times, level, result)


def w4_graph(rules: Sequence[data.W4Rule]) -> Graph:
    rows = [[f'"{r.region}"', f'"{r.tier}"', f'"{r.owner}"'] for r in rules]
    return _graph(_table("route", ["region", "tier"], ["owner_id"], rows))


GRAPHS = {"W1": w1_graph, "W2": w2_graph, "W3": w3_graph}


# ---- inputs and conclusions ---------------------------------------------------------------------


def contexts(workload: str, facts: data.Facts) -> list[tuple[Record, str]]:
    """(pre-joined record, JSON context text) per fact, decimals written exactly."""
    if workload == "W1":
        return [(r, _json({"s": r["scores"], "role": r["role"], "bonus": r["bonus"]}))
                for r in joined_w1(facts)]
    if workload == "W2":
        return [(r, _json(r)) for r in joined_w2(facts)]
    now = micros(data.NOW)
    out = []
    for r in joined_w3(facts):
        context = {k: micros(r[k]) for k in ("opened_at", "first_response_at", "resolved_at",
                                            "client_notified_at")}
        context.update(severity=r["severity"], reopened_count=r["reopened_count"], now=now)
        out.append((r, _json(context)))
    return out


def _json(value: Any) -> str:
    """JSON text with ``Decimal`` written as an exact number."""
    return data.to_json(value)


def w1_conclusions(record: Record, result: Record, out: list[Conclusion]) -> None:
    aid = record["id"]
    if not result["complete"]:
        missing = list(result["missing"]) + ([] if record["role"] else ["role"])
        out.append(("appraisal_incomplete", "appraisal", aid, {"missing": missing}))
        return
    out.append(("grade", "appraisal", aid, {"kind": "monthly", "period": record["period"],
                                            "grade": result["grade"],
                                            "score": cents(result["score"])}))
    amount = result.get("amount")
    out.append(("bonus", "appraisal", aid, {
        "period": record["period"], "multiplier": cents(result["multiplier"]),
        "amount": None if amount is None else cents(amount)}))


def w2_conclusions(record: Record, result: Record, out: list[Conclusion]) -> None:
    reasons = [code for code, ok in (("education", result["education_ok"]),
                                     ("experience", result["experience_ok"]),
                                     ("ka_experience", result["ka_ok"])) if not ok]
    role, pid = record["role"], record["id"]
    if reasons:
        out.append(("ineligible", "application", pid, {"role": role, "reasons": reasons}))
        return
    out.append(("eligible", "application", pid, {"role": role}))
    if result["preferred"]:
        out.append(("preferred_candidate", "application", pid, {"role": role}))


TARGETS = {1: "manager", 2: "department_head", 3: "executive"}


def w3_conclusions(record: Record, result: Record, out: list[Conclusion]) -> None:
    cid = record["id"]
    if result["task_force"]:
        out.append(("task_force", "complaint", cid, {}))
    level = int(result["level"])
    if level:
        values: dict[str, Any] = {"level": level, "to": TARGETS[level]}
        if level == 1:
            values["manager_id"] = record["manager_id"]
        out.append(("escalation", "complaint", cid, values))
    if result["notice_overdue"]:
        out.append(("client_notice_overdue", "complaint", cid, {}))


CONCLUDE = {"W1": w1_conclusions, "W2": w2_conclusions, "W3": w3_conclusions}


def account_reviews(client_ids: list[str]) -> list[Conclusion]:
    return [("account_review", "client", client, {})
            for client, count in Counter(client_ids).items() if count >= 3]


# ---- runners ------------------------------------------------------------------------------------


def engine_for(graph: Graph) -> zen.ZenEngine:
    """An engine whose loader serves ``graph`` under any key (for ``evaluate_batch``)."""
    content = zen.ZenDecisionContent(json.dumps(graph))
    return zen.ZenEngine({"loader": lambda key: content})


def build(workload: str, facts: data.Facts) -> Impl:
    engine = engine_for(GRAPHS[workload]())
    pairs = contexts(workload, facts)
    conclude = CONCLUDE[workload]

    def run(batch: list[tuple[Record, str]]) -> list[Conclusion]:
        out: list[Conclusion] = []
        window: list[str] = []
        for start in range(0, len(batch), BATCH):
            chunk = batch[start : start + BATCH]
            results = engine.evaluate_batch([{"key": workload, "context": c} for _, c in chunk])
            for (record, _), item in zip(chunk, results, strict=True):
                result = item["data"]["result"]
                conclude(record, result, out)
                if result.get("in_window"):
                    window.append(record["client_id"])
        return out + account_reviews(window)

    def one(pair: tuple[Record, str]) -> Any:
        return engine.evaluate(workload, pair[1])

    return Impl("zen-engine", run, pairs, one, pairs[:2000],
                "evaluate_batch in chunks of 2,000 (latency: ZenEngine.evaluate); JSON contexts")
