"""Progress of an apply: a rich bar with rate and ETA on a terminal, plain lines elsewhere.

CI logs do not render carriage returns, so off a terminal the reporter prints
one line every few seconds instead of redrawing a bar.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO, runtime_checkable

__all__ = ["NullProgress", "PlainProgress", "ProgressReporter", "RichProgress", "make_progress"]


@runtime_checkable
class ProgressReporter(Protocol):
    """Receives the apply's progress. Called from worker threads: implementations lock."""

    def start(self, total: int, *, already: int = 0) -> None:
        """``total`` operations in all, ``already`` of them settled before this run (a resume)."""
        ...

    def advance(self, state: str, count: int = 1) -> None:
        """``count`` operations settled in ``state`` (done, skipped, failed)."""
        ...

    def finish(self) -> None: ...


class NullProgress:
    """Reports nothing."""

    def start(self, total: int, *, already: int = 0) -> None:
        pass

    def advance(self, state: str, count: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class _Counts:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.total = 0
        self.already = 0
        self.by_state: dict[str, int] = {"done": 0, "skipped": 0, "failed": 0}
        self.started = clock()

    @property
    def settled(self) -> int:
        return sum(self.by_state.values())

    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return self.settled / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        left = self.total - self.already - self.settled
        return left / rate if rate > 0 else None


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class PlainProgress:
    """One line every ``every`` seconds (and at the end), for logs.

    A heartbeat thread prints the line even when nothing settles (a write
    waiting out a rate limit), so a CI log never looks hung for longer than
    ``every`` seconds. ``heartbeat=False`` leaves only the lines ``advance`` prints.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        heartbeat: bool = True,
    ) -> None:
        self._stream = stream
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._counts = _Counts(clock)
        self._last = 0.0
        self._heartbeat = heartbeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _beat(self) -> None:
        while not self._stop.wait(min(1.0, self._every)):
            with self._lock:
                now = self._clock()
                if now - self._last >= self._every:
                    self._last = now
                    self._print(self._line())

    def _line(self) -> str:
        c = self._counts
        done = c.already + c.settled
        return (
            f"apply: {done}/{c.total} settled ({c.by_state['done']} done, {c.by_state['skipped']} skipped, "
            f"{c.by_state['failed']} failed), {c.rate():.1f} ops/s, ETA {_fmt_eta(c.eta())}"
        )

    def _print(self, line: str) -> None:
        print(line, file=self._stream or sys.stderr, flush=True)

    def start(self, total: int, *, already: int = 0) -> None:
        with self._lock:
            self._counts = _Counts(self._clock)
            self._counts.total = total
            self._counts.already = already
            self._last = self._clock()
            self._print(f"apply: {total - already} operations to run ({already} settled earlier)")
        if self._heartbeat and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, name="artifact-guard-progress", daemon=True)
            self._thread.start()

    def advance(self, state: str, count: int = 1) -> None:
        with self._lock:
            self._counts.by_state[state] = self._counts.by_state.get(state, 0) + count
            now = self._clock()
            if now - self._last >= self._every:
                self._last = now
                self._print(self._line())

    def finish(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._print(self._line())


class RichProgress:
    """A rich progress bar with the operation rate and ETA."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._lock = threading.Lock()
        self._progress = Progress(
            TextColumn("[bold]apply"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:.1f} ops/s"),
            TextColumn(
                "[green]{task.fields[done]} done[/] [yellow]{task.fields[skipped]} skipped[/]"
                " [red]{task.fields[failed]} failed[/]"
            ),
            TimeRemainingColumn(),
            console=Console(file=stream or sys.stderr),
            transient=False,
        )
        self._counts = _Counts(time.monotonic)
        self._task = self._progress.add_task("apply", total=0, rate=0.0, done=0, skipped=0, failed=0)

    def start(self, total: int, *, already: int = 0) -> None:
        with self._lock:
            self._counts = _Counts(time.monotonic)
            self._counts.total = total
            self._counts.already = already
            self._progress.update(self._task, total=total, completed=already)
            self._progress.start()

    def advance(self, state: str, count: int = 1) -> None:
        with self._lock:
            c = self._counts
            c.by_state[state] = c.by_state.get(state, 0) + count
            self._progress.update(
                self._task,
                advance=count,
                rate=c.rate(),
                done=c.by_state["done"],
                skipped=c.by_state["skipped"],
                failed=c.by_state["failed"],
            )

    def finish(self) -> None:
        with self._lock:
            self._progress.stop()


def make_progress(progress: bool | ProgressReporter | None, stream: TextIO | None = None) -> ProgressReporter:
    """The reporter for ``apply(progress=...)``.

    ``None`` (default): a bar on a terminal, nothing otherwise (quiet in tests
    and libraries). ``True``: a bar on a terminal, plain lines otherwise.
    ``False``: nothing. A :class:`ProgressReporter` is used as given.
    """
    if isinstance(progress, ProgressReporter):
        return progress
    if progress is False:
        return NullProgress()
    out = stream or sys.stderr
    tty = hasattr(out, "isatty") and out.isatty()
    if tty:
        return RichProgress(out)
    return PlainProgress(out) if progress is True else NullProgress()
