"""Append-only storage of log records: JSON Lines (default) or SQLite, behind one interface.

Appends are atomic and durable. A writer takes an exclusive lock (``flock`` on the JSON Lines
file, ``BEGIN IMMEDIATE`` in SQLite), reads the records other writers appended since it last
looked (so two writers never fork the chain), writes one record (one ``write`` of one line and
``fsync``, or one committed row with WAL and synchronous=FULL) and releases the lock. A crash
mid-append can only leave a torn last line in a JSON Lines file; opening the store for writing
cuts it off (and says so). Readers (verify, query, replay) open the file read-only.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from kam_policy.errors import KamPolicyError


class LogError(KamPolicyError):
    """A decision log cannot be opened, read or written."""


class RawRecord:
    """A stored record: its position (1-based), its text, and the parsed body (or None)."""

    __slots__ = ("body", "position", "text")

    def __init__(self, position: int, text: str, body: dict[str, Any] | None) -> None:
        self.position = position
        self.text = text
        self.body = body


class LogStore(Protocol):
    """Where records live."""

    path: Path
    torn_tail: bytes | None  # a torn final record found on open (cut off when writable)

    def exclusive(self) -> Any:
        """A context in which this writer alone may append."""

    def read_new(self) -> list[RawRecord]:
        """Complete records appended since this store last read (call inside exclusive)."""

    def append(self, text: str) -> None:
        """Append one record (call inside exclusive)."""

    def read(self) -> Iterator[RawRecord]: ...

    def close(self) -> None: ...


def canonical(body: dict[str, Any]) -> str:
    """The one JSON text of a record that its hash covers."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _parse(text: str) -> dict[str, Any] | None:
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


class JsonLinesStore:
    """One record per line."""

    def __init__(self, path: Path, *, writable: bool) -> None:
        self.path = path
        self.torn_tail: bytes | None = None
        self._lock = threading.Lock()
        self._handle: BinaryIO | None = None
        self._offset = 0
        self._count = 0
        if writable:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(path, "ab+")  # noqa: SIM115 - held for the store's life
            with self.exclusive():
                self._cut_torn_tail()
        elif not path.is_file():
            raise LogError(f"no decision log at {path}")
        else:
            self.torn_tail = self._tail_of(path)

    @staticmethod
    def _tail_of(path: Path) -> bytes | None:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            if size == 0:
                return None
            file.seek(size - 1)
            if file.read(1) == b"\n":
                return None
            end = _last_newline(file, size)
            file.seek(end)
            return file.read(size - end)

    def _cut_torn_tail(self) -> None:
        handle = self._handle
        assert handle is not None
        self.torn_tail = self._tail_of(self.path)
        if self.torn_tail is not None:
            size = handle.seek(0, os.SEEK_END)
            handle.truncate(size - len(self.torn_tail))
            handle.flush()
            os.fsync(handle.fileno())

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        handle = self._handle
        if handle is None:
            raise LogError(f"{self.path} is open for reading only")
        with self._lock:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_new(self) -> list[RawRecord]:
        handle = self._handle
        assert handle is not None
        handle.seek(self._offset)
        records = []
        for line in handle:
            if not line.endswith(b"\n"):
                break
            self._offset += len(line)
            self._count += 1
            text = line[:-1].decode("utf-8", "replace")
            records.append(RawRecord(self._count, text, _parse(text)))
        return records

    def append(self, text: str) -> None:
        if "\n" in text:
            raise LogError("a record must be one line")
        handle = self._handle
        assert handle is not None
        data = (text + "\n").encode("utf-8")
        handle.seek(0, os.SEEK_END)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        self._offset += len(data)
        self._count += 1

    def read(self) -> Iterator[RawRecord]:
        with open(self.path, "rb") as file:
            for position, line in enumerate(file, start=1):
                if not line.endswith(b"\n"):
                    return  # a torn tail is not a record
                text = line[:-1].decode("utf-8", "replace")
                yield RawRecord(position, text, _parse(text))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _last_newline(file: BinaryIO, size: int) -> int:
    position = size
    while position > 0:
        step = min(65536, position)
        file.seek(position - step)
        chunk = file.read(step)
        index = chunk.rfind(b"\n")
        if index >= 0:
            return position - step + index + 1
        position -= step
    return 0


class SqliteStore:
    """Records as rows of one table; each append is its own committed transaction."""

    def __init__(self, path: Path, *, writable: bool) -> None:
        self.path = path
        self.torn_tail: bytes | None = None
        self._lock = threading.Lock()
        self._last = 0
        if not writable and not path.is_file():
            raise LogError(f"no decision log at {path}")
        try:
            if writable:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute("CREATE TABLE IF NOT EXISTS records ("
                                 "position INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)")
            else:
                self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                           check_same_thread=False, isolation_level=None)
        except sqlite3.DatabaseError as error:
            raise LogError(f"{path}: not a decision log database ({error})") from None

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def read_new(self) -> list[RawRecord]:
        rows = self._db.execute("SELECT position, body FROM records WHERE position > ? "
                                "ORDER BY position", (self._last,)).fetchall()
        records = []
        for position, text in rows:
            self._last = position
            records.append(RawRecord(position, text, _parse(text)))
        return records

    def append(self, text: str) -> None:
        cursor = self._db.execute("INSERT INTO records (body) VALUES (?)", (text,))
        self._last = int(cursor.lastrowid or self._last)

    def read(self) -> Iterator[RawRecord]:
        with self._lock:
            try:
                fetched = self._db.execute(
                    "SELECT body FROM records ORDER BY position").fetchall()
            except sqlite3.DatabaseError as error:
                raise LogError(f"{self.path}: cannot read records ({error})") from None
        for index, (text,) in enumerate(fetched, start=1):
            yield RawRecord(index, text, _parse(text))

    def close(self) -> None:
        self._db.close()


def open_store(path: str | Path, *, writable: bool = True) -> LogStore:
    """JSON Lines unless the file name ends in .sqlite, .sqlite3 or .db."""
    file = Path(path)
    try:
        if file.suffix.lower() in (".sqlite", ".sqlite3", ".db"):
            return SqliteStore(file, writable=writable)
        return JsonLinesStore(file, writable=writable)
    except OSError as error:
        raise LogError(f"cannot open decision log {file}: {error.strerror}") from None
