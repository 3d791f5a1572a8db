"""Verifying a decision log: every hash, every link, every sequence number."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kam_policy.audit.log import GENESIS, read_records, record_hash
from kam_policy.audit.store import open_store


@dataclass(frozen=True)
class VerifyResult:
    """The outcome: how many records are intact, and the first bad one if any."""

    records: int
    head: str
    bad_position: int | None = None
    bad_seq: int | None = None
    problem: str | None = None
    torn_tail: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(path: str | Path, *, key: bytes | None = None) -> VerifyResult:
    """Check the chain; name the first record that was edited, deleted, inserted or moved."""
    previous_hash = GENESIS
    expected_seq = 1
    count = 0
    for raw in read_records(path):
        body = raw.body
        if body is None:
            return VerifyResult(count, previous_hash, raw.position, None,
                                "is not a valid JSON record (edited or corrupted)")
        seq = body.get("seq")
        if body.get("hash") != record_hash(body, key):
            return VerifyResult(count, previous_hash, raw.position, _int(seq),
                                "has a hash that does not match its content (edited)")
        if body.get("prev_hash") != previous_hash:
            return VerifyResult(count, previous_hash, raw.position, _int(seq),
                                "does not follow the record before it (a record was deleted, "
                                "inserted or reordered here)")
        if seq != expected_seq:
            return VerifyResult(count, previous_hash, raw.position, _int(seq),
                                f"has sequence number {seq} where {expected_seq} was due")
        previous_hash = str(body["hash"])
        expected_seq += 1
        count += 1
    store = open_store(path, writable=False)
    torn = store.torn_tail
    store.close()
    return VerifyResult(count, previous_hash, torn_tail=torn)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None
