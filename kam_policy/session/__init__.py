"""Sessions: a policy over a stream of events, firing conclusions at their exact due times."""

from kam_policy.session.events import Event, EventError, EventProblem
from kam_policy.session.session import Batch, Emission, MemoryStore, Session, SessionStore
from kam_policy.session.store import SessionStateError, SqliteStore

__all__ = ["Batch", "Emission", "Event", "EventError", "EventProblem", "MemoryStore", "Session",
           "SessionStateError", "SessionStore", "SqliteStore"]
