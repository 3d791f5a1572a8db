"""Durable session state in SQLite: each batch is one transaction, committed before it returns.

The database holds the facts, the conclusions held, the clock, the accepted events (a log, with
their ``event_id`` unique) and every emission. A process killed at any point leaves either the
state before a batch or the state after it — never half — so resuming loses no acknowledged
event and never fires a conclusion twice. WAL journaling with ``synchronous=FULL``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kam_policy.engine.decision import Conclusion, Subject
from kam_policy.engine.policy import Policy
from kam_policy.errors import KamPolicyError
from kam_policy.session.events import Event
from kam_policy.session.session import Emission, SessionState, SessionStore

FORMAT = 1

# One transaction: a process killed while creating the database leaves all tables or none.
_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS facts (type TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL,
                                  PRIMARY KEY (type, id));
CREATE TABLE IF NOT EXISTS held (key TEXT PRIMARY KEY, conclusion TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, event_id TEXT UNIQUE,
                                   body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS emissions (seq INTEGER PRIMARY KEY, at TEXT NOT NULL,
                                      kind TEXT NOT NULL, body TEXT NOT NULL);
COMMIT;
"""


class SessionStateError(KamPolicyError):
    """A state database that cannot be used: another policy's, another format, or damaged."""


class SqliteStore(SessionStore):
    """A session's state in the SQLite database at ``path`` (created if missing).

    One process at a time writes a session: a second writer waits for the first's transaction.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise SessionStateError(f"{self.path}: not a session state database ({error})") \
                from None
        self._facts: dict[tuple[str, str], BaseModel] = {}
        self._held: set[str] = set()

    def close(self) -> None:
        self._db.close()

    # ---- reading ---------------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    def load(self, policy: Policy) -> SessionState | None:
        meta = self._meta()
        if not meta:
            return None
        if meta.get("format") != FORMAT:
            raise SessionStateError(f"{self.path}: state format {meta.get('format')} is not "
                                    f"{FORMAT}")
        if meta.get("policy_sha256") != policy.digest:
            raise SessionStateError(
                f"{self.path}: the session was run under policy {meta.get('policy_name')} "
                f"{meta.get('policy_version')} (sha256 {str(meta.get('policy_sha256'))[:12]}), "
                f"not {policy.name} {policy.version} (sha256 {policy.digest[:12]}); start a new "
                "state database for the new policy")
        state = SessionState(facts={t.name: {} for t in policy.schema.types})
        for type_name, ident, record in self._db.execute(
                "SELECT type, id, record FROM facts ORDER BY rowid"):
            fact = policy.schema[type_name].model.model_validate_json(record)
            state.facts.setdefault(type_name, {})[ident] = fact
            self._facts[(type_name, ident)] = fact
        for key, body in self._db.execute("SELECT key, conclusion FROM held"):
            state.held[key] = conclusion_from_dict(json.loads(body))
            self._held.add(key)
        state.clock = _instant(meta.get("clock"))
        state.next_change = _instant(meta.get("next_change"))
        state.emitted = int(meta.get("emitted", 0))
        state.events = int(meta.get("events", 0))
        return state

    def seen(self, event_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM events WHERE event_id = ?", (event_id,)).fetchone()
        return row is not None

    def mark(self, name: str) -> Any:
        """A value saved with ``commit(marks=...)`` (such as the line an events file reached)."""
        return self._meta().get(f"mark:{name}")

    def emissions(self, after: int = 0) -> Iterator[dict[str, Any]]:
        """Emissions recorded, in order, after sequence number ``after``."""
        for (body,) in self._db.execute("SELECT body FROM emissions WHERE seq > ? ORDER BY seq",
                                        (after,)):
            yield json.loads(body)

    # ---- writing ---------------------------------------------------------------------------
    def commit(self, state: SessionState, events: list[Event], emissions: list[Emission],
               marks: dict[str, Any] | None = None) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._write_facts(state)
            self._write_held(state)
            db.executemany("INSERT INTO events (event_id, body) VALUES (?, ?)",
                           [(e.event_id, e.to_json()) for e in events])
            db.executemany("INSERT INTO emissions (seq, at, kind, body) VALUES (?, ?, ?, ?)",
                           [(e.seq, e.at.isoformat(), e.kind,
                             json.dumps(e.to_dict(), ensure_ascii=False)) for e in emissions])
            meta = {"clock": _text(state.clock), "next_change": _text(state.next_change),
                    "emitted": state.emitted, "events": state.events}
            meta.update({f"mark:{k}": v for k, v in (marks or {}).items()})
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                           [(k, json.dumps(v)) for k, v in meta.items()])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def bind(self, policy: Policy) -> None:
        """Record which policy this state belongs to (once, when the state is new)."""
        if self._meta():
            return
        meta = {"format": FORMAT, "policy_name": policy.name, "policy_version": policy.version,
                "policy_sha256": policy.digest}
        self._db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             [(k, json.dumps(v)) for k, v in meta.items()])

    def _write_facts(self, state: SessionState) -> None:
        current = {(t, i): f for t, records in state.facts.items() for i, f in records.items()}
        gone = [key for key in self._facts if key not in current]
        changed = [(t, i, f.model_dump_json()) for (t, i), f in current.items()
                   if self._facts.get((t, i)) is not f]
        self._db.executemany("DELETE FROM facts WHERE type = ? AND id = ?", gone)
        self._db.executemany("INSERT OR REPLACE INTO facts (type, id, record) VALUES (?, ?, ?)",
                             changed)
        self._facts = current

    def _write_held(self, state: SessionState) -> None:
        keys = set(state.held)
        self._db.executemany("DELETE FROM held WHERE key = ?", [(k,) for k in self._held - keys])
        self._db.executemany(
            "INSERT OR REPLACE INTO held (key, conclusion) VALUES (?, ?)",
            [(k, json.dumps(state.held[k].to_dict(), ensure_ascii=False))
             for k in keys - self._held])
        self._held = keys


def conclusion_from_dict(data: dict[str, Any]) -> Conclusion:
    subject = Subject(data["subject"]["type"], data["subject"]["id"])
    return Conclusion(data["name"], subject, data["values"], data["rule"],
                      data["source"]["file"], data["source"]["line"], data.get("reason"))


def _text(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: Any) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


__all__ = ["SessionStateError", "SqliteStore"]
