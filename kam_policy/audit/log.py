"""The decision log: one hash-chained record per decision, with the policy that decided.

Each record carries ``seq`` (1, 2, ...), ``prev_hash`` (the previous record's ``hash``) and
its own ``hash`` over its canonical JSON: an edited, deleted, inserted or reordered record
breaks the chain. With a key (HMAC-SHA256) the chain can't even be rebuilt by someone who
edits the file. The first decision under a policy digest is preceded by a ``policy`` record
holding the exact rule sources and parameter values, so any decision can be replayed from the
log alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import kam_policy
from kam_policy.audit.store import LogError, LogStore, RawRecord, canonical, open_store
from kam_policy.engine.decision import Decision
from kam_policy.engine.params import to_toml_value
from kam_policy.engine.policy import Policy, compile_policy
from kam_policy.engine.sources import sources_from_texts
from kam_policy.errors import PolicyError
from kam_policy.facts.load import FactSet

GENESIS = "0" * 64
RECORD_VERSION = 1


def record_hash(body: dict[str, Any], key: bytes | None) -> str:
    """The hash of a record's body (without its own ``hash`` field)."""
    content = {k: v for k, v in body.items() if k != "hash"}
    data = canonical(content).encode("utf-8")
    if key is not None:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def mask_facts(facts: dict[str, list[dict[str, Any]]],
               paths: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Replace personal fields (``staff.name``) by a digest of their value."""
    masked = {key: [dict(record) for record in records] for key, records in facts.items()}
    for path in paths:
        key, _, field = path.partition(".")
        for record in masked.get(key, []):
            if field in record and record[field] is not None:
                digest = hashlib.sha256(canonical({"v": record[field]}).encode()).hexdigest()
                record[field] = f"masked:{digest[:16]}"
    return masked


class DecisionLog:
    """An append-only, hash-chained decision log (JSON Lines, or SQLite for *.sqlite / *.db).

    Args:
        path: the log file.
        mask: field paths to mask in recorded facts, e.g. ``["staff.name"]``.
        key: an optional secret; records are then chained with HMAC-SHA256.
        repair: cut off a torn final record left by a crash (reported in ``torn_tail``).
    """

    def __init__(self, path: str | Path, *, mask: Sequence[str] = (), key: bytes | None = None,
                 repair: bool = True) -> None:
        self.store: LogStore = open_store(path, repair=repair)
        self.mask = tuple(mask)
        self.key = key
        self._lock = threading.Lock()
        self._seq = 0
        self._head = GENESIS
        self._policies: set[str] = set()
        for raw in self.store.read():
            if raw.body is None:
                raise LogError(f"{path}: record {raw.position} is not valid JSON; "
                               "run 'kam-policy audit verify'")
            self._seq = int(raw.body.get("seq", 0))
            self._head = str(raw.body.get("hash", ""))
            if raw.body.get("type") == "policy":
                self._policies.add(str(raw.body.get("sha256")))

    @property
    def torn_tail(self) -> str | None:
        return self.store.torn_tail

    def record(self, policy: Policy, facts: FactSet, decision: Decision) -> dict[str, Any]:
        """Append one decision (and its policy, the first time); returns the record."""
        with self._lock:
            if policy.digest not in self._policies:
                self._append(policy_body(policy))
                self._policies.add(policy.digest)
            return self._append(self._decision_body(facts, decision))

    def _decision_body(self, facts: FactSet, decision: Decision) -> dict[str, Any]:
        return {
            "type": "decision",
            "decision_id": decision.decision_id,
            "wall_time": dt.datetime.now(dt.UTC).isoformat(),
            "at": decision.at,
            "policy": decision.policy.to_dict(),
            "engine_version": kam_policy.__version__,
            "masked": list(self.mask),
            "facts": mask_facts(facts.to_jsonable(), self.mask),
            "conclusions": [c.to_dict() for c in decision.conclusions],
        }

    def _append(self, body: dict[str, Any]) -> dict[str, Any]:
        record = {"version": RECORD_VERSION, "seq": self._seq + 1, "prev_hash": self._head,
                  **body}
        record["hash"] = record_hash(record, self.key)
        self.store.append(canonical(record))
        self._seq += 1
        self._head = record["hash"]
        return record

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def policy_body(policy: Policy) -> dict[str, Any]:
    """A policy record: the exact sources and parameter values behind a digest."""
    return {
        "type": "policy",
        "sha256": policy.digest,
        "name": policy.name,
        "version": policy.version,
        "sources": dict(policy.sources),
        "params": {name: to_toml_value(p.value, p.type) for name, p in policy.params.items()},
    }


def policy_from_record(body: dict[str, Any], schema: Any = None) -> Policy:
    """Rebuild the policy a ``policy`` record describes (checked against its digest)."""
    sources = sources_from_texts(dict(body["sources"]))
    if sources.diagnostics:
        raise PolicyError(sources.diagnostics)
    policy = compile_policy(sources, schema or kam_policy.bundled_schema(), body["params"])
    if policy.digest != body["sha256"]:
        raise LogError(f"the recorded policy does not reproduce its digest {body['sha256'][:12]}")
    return policy


def read_records(path: str | Path) -> Iterator[RawRecord]:
    """Every complete record of a log, in order (without repairing anything)."""
    if not Path(path).is_file():
        raise LogError(f"no decision log at {path}")
    store = open_store(path, repair=False)
    try:
        yield from store.read()
    finally:
        store.close()


__all__ = ["GENESIS", "DecisionLog", "LogError", "PolicyError", "policy_from_record",
           "read_records", "record_hash"]
