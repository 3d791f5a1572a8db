"""A fork server for tests that SIGKILL a worker process mid-write, and its test-side handle.

Loading the bundled policy takes about a second, too long to pay on each of many kills, so a
worker script (``tests/crash_writer.py``, ``tests/session_worker.py``) does it once and then
calls ``serve``: for each command line on stdin (words separated by spaces) it forks a child
that runs the worker's job, and reports ``forked PID``; when the child is gone it reaps it and
reports ``done PID STATUS``. A child that raises reports ``error TRACEBACK`` (on one line).
Every report is one ``os.write`` of one short line to a pipe (``say``), so it arrives whole or
not at all, and a child's lines come before its ``done``.

``Server`` starts such a script and reads its reports in a thread.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).parent.parent

# ---- the server process -------------------------------------------------------------------


def say(line: str) -> None:
    """Report one line to the test, in one write."""
    os.write(1, (line + "\n").encode("utf-8"))


def serve(job: Callable[[list[str]], None], *, error_status: int = 1) -> None:
    """Report ``server ready``, then fork a child running ``job(words)`` for each command line
    on stdin, one at a time; a child exits 0, or ``error_status`` when ``job`` raised."""
    say("server ready")
    for command in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                job(command.split())
                code = 0
            except BaseException:
                say("error " + traceback.format_exc().replace("\n", " | "))
                code = error_status
            os._exit(code)
        say(f"forked {pid}")
        _, status = os.waitpid(pid, 0)
        say(f"done {pid} {status}")


# ---- the test side ------------------------------------------------------------------------


class Server:
    """A fork server script, running; its reports are read by a thread.

    Args:
        script: the worker script, which calls ``serve``.
        name: what the worker is called in assertion messages (``writer``).
        timeout: seconds to wait for any one report.
    """

    def __init__(self, script: Path, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, cwd=ROOT, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.child = 0  # the pid of a forked child not yet reaped
        threading.Thread(target=self._read, daemon=True).start()
        assert self.next() == "server ready"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.decode("utf-8").rstrip("\n"))
        self.lines.put("eof")

    def next(self) -> str:
        """The next report; an ``error`` report or the server's end fails the test."""
        try:
            line = self.lines.get(timeout=self.timeout)
        except queue.Empty:
            raise AssertionError(f"the {self.name} said nothing for {self.timeout} s") from None
        assert not line.startswith("error"), line
        assert line != "eof", f"the {self.name} server died"
        if line.startswith("forked "):
            self.child = int(line.split()[1])
        elif line.startswith("done "):
            self.child = 0  # reaped: its pid may be reused, never kill it again
        return line

    def command(self, *words: object) -> None:
        """Send one command: the server forks a child for it."""
        assert self.process.stdin is not None
        self.process.stdin.write((" ".join(map(str, words)) + "\n").encode())
        self.process.stdin.flush()

    def close(self) -> None:
        """Stop the server, and a child a failed test left running."""
        if self.child:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child, signal.SIGKILL)
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
