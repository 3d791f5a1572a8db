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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import kam_policy
from kam_policy.audit.store import LogError, LogStore, RawRecord, canonical, open_store
from kam_policy.engine.decision import Decision
from kam_policy.engine.declarations import did_you_mean
from kam_policy.engine.params import to_toml_value
from kam_policy.engine.policy import Policy, compile_policy
from kam_policy.engine.sources import sources_from_texts
from kam_policy.errors import PolicyError
from kam_policy.facts.load import FactSet
from kam_policy.facts.schema import FactSchema

GENESIS = "0" * 64
RECORD_FORMAT = 1


def record_hash(body: dict[str, Any], key: bytes | None) -> str:
    """The hash of a record's body (without its own ``hash`` field)."""
    content = {k: v for k, v in body.items() if k != "hash"}
    data = canonical(content).encode("utf-8")
    if key is not None:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def mask_facts(facts: dict[str, list[dict[str, Any]]], paths: Sequence[str],
               key: bytes | None = None) -> dict[str, list[dict[str, Any]]]:
    """Replace personal fields (``staff.name``) by a digest of their value (keyed if a key is
    given)."""
    masked = {key: [dict(record) for record in records] for key, records in facts.items()}
    for path in paths:
        fact_key, _, field = path.partition(".")
        for record in masked.get(fact_key, []):
            if field in record and record[field] is not None:
                data = canonical({"v": record[field]}).encode()
                digest = (hmac.new(key, data, hashlib.sha256) if key else
                          hashlib.sha256(data)).hexdigest()
                record[field] = f"masked:{digest[:16]}"
    return masked


class DecisionLog:
    """An append-only, hash-chained decision log (JSON Lines, or SQLite for *.sqlite / *.db).

    Args:
        path: the log file.
        mask: field paths to mask in recorded facts, e.g. ``["staff.name"]``.
        key: an optional secret; records are then chained with HMAC-SHA256, and masked
            values are keyed too (so a masked name can't be found by hashing a staff list).
        schema: the fact types the mask paths are checked against (the bundled ones).

    Opening the log cuts off a torn final record left by a crash (see ``torn_tail``).
    """

    def __init__(self, path: str | Path, *, mask: Sequence[str] = (), key: bytes | None = None,
                 schema: FactSchema | None = None) -> None:
        self.mask = tuple(mask)
        check_mask(self.mask, schema or kam_policy.bundled_schema())
        self.store: LogStore = open_store(path)
        self.path = Path(path)
        self.key = key
        self._seq = 0
        self._head = GENESIS
        self._policies: set[str] = set()
        with self.store.exclusive():
            self._catch_up()

    def _catch_up(self) -> None:
        """Take in the records appended since this log last looked (by any writer)."""
        for raw in self.store.read_new():
            if raw.body is None:
                raise LogError(f"{self.path}: record {raw.position} is not valid JSON; "
                               "run 'kam-policy audit verify'")
            self._seq = int(raw.body.get("seq", 0))
            self._head = str(raw.body.get("hash", ""))
            if raw.body.get("type") == "policy":
                self._policies.add(str(raw.body.get("sha256")))

    @property
    def torn_tail(self) -> bytes | None:
        """A torn final record left by a crash, cut off when this log was opened."""
        return self.store.torn_tail

    def record(self, policy: Policy, facts: FactSet, decision: Decision) -> dict[str, Any]:
        """Append one decision (and its policy, the first time); returns the record."""
        with self.store.exclusive():
            self._catch_up()
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
            "facts": mask_facts(facts.to_jsonable(), self.mask, self.key),
            "conclusions": [c.to_dict() for c in decision.conclusions],
        }

    def _append(self, body: dict[str, Any]) -> dict[str, Any]:
        record = {"format": RECORD_FORMAT, "seq": self._seq + 1, "prev_hash": self._head,
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


def check_mask(paths: Sequence[str], schema: FactSchema) -> None:
    """Every mask path names a field of a fact type (a misspelt one would mask nothing)."""
    for path in paths:
        key, _, field = path.partition(".")
        fact_type = schema.by_key.get(key)
        if fact_type is None:
            hint = did_you_mean(key, schema.by_key)
            raise LogError(f"mask '{path}': no fact list '{key}'" + (f"; {hint}" if hint else ""))
        if field not in fact_type.model.model_fields:
            hint = did_you_mean(field, fact_type.model.model_fields)
            raise LogError(f"mask '{path}': {fact_type.name} has no field '{field}'"
                           + (f"; {hint}" if hint else ""))


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
    store = open_store(path, writable=False)
    try:
        yield from store.read()
    finally:
        store.close()


__all__ = ["GENESIS", "DecisionLog", "LogError", "PolicyError", "policy_from_record",
           "read_records", "record_hash"]
