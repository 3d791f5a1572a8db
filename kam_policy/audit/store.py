"""Append-only storage of log records: JSON Lines (default) or SQLite, behind one interface.

Appends are atomic and durable: a JSON Lines record is one ``write`` of one line followed by
``fsync``, under an exclusive file lock; SQLite commits each record in a transaction (WAL,
synchronous=FULL). A crash mid-append can only leave a torn last line in a JSON Lines file;
opening the store for appending cuts it off (and says so), so earlier records never suffer.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
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
    torn_tail: str | None  # a torn final record found on open (and cut off when repairing)

    def append(self, text: str) -> None: ...

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

    def __init__(self, path: Path, *, repair: bool) -> None:
        self.path = path
        self.torn_tail: str | None = None
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab"):
            pass
        self._check_tail(repair)

    def _check_tail(self, repair: bool) -> None:
        with open(self.path, "rb+") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                size = file.seek(0, os.SEEK_END)
                if size == 0:
                    return
                file.seek(size - 1)
                if file.read(1) == b"\n":
                    return
                end = self._last_newline(file, size)
                file.seek(end)
                self.torn_tail = file.read(size - end).decode("utf-8", "replace")
                if repair:
                    file.truncate(end)
                    file.flush()
                    os.fsync(file.fileno())
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

    @staticmethod
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

    def append(self, text: str) -> None:
        if "\n" in text:
            raise LogError("a record must be one line")
        data = (text + "\n").encode("utf-8")
        with self._lock, open(self.path, "ab") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

    def read(self) -> Iterator[RawRecord]:
        with open(self.path, "rb") as file:
            for position, line in enumerate(file, start=1):
                if not line.endswith(b"\n"):
                    return  # a torn tail is not a record
                text = line[:-1].decode("utf-8", "replace")
                yield RawRecord(position, text, _parse(text))

    def close(self) -> None:
        return None


class SqliteStore:
    """Records as rows of one table; each append is its own committed transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.torn_tail: str | None = None
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("CREATE TABLE IF NOT EXISTS records ("
                             "position INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)")
        except sqlite3.DatabaseError as error:
            raise LogError(f"{path}: not a decision log database ({error})") from None

    def append(self, text: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT INTO records (body) VALUES (?)", (text,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def read(self) -> Iterator[RawRecord]:
        with self._lock:
            rows = self._db.execute("SELECT position, body FROM records ORDER BY position")
            fetched = rows.fetchall()
        for index, (_, text) in enumerate(fetched, start=1):
            yield RawRecord(index, text, _parse(text))

    def close(self) -> None:
        self._db.close()


def open_store(path: str | Path, *, repair: bool = True) -> LogStore:
    """JSON Lines unless the file name ends in .sqlite, .sqlite3 or .db."""
    file = Path(path)
    try:
        if file.suffix.lower() in (".sqlite", ".sqlite3", ".db"):
            return SqliteStore(file)
        return JsonLinesStore(file, repair=repair)
    except OSError as error:
        raise LogError(f"cannot open decision log {file}: {error.strerror}") from None
