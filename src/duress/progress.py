"""Progress of a run, fed by Inspect's hooks: a Rich bar on a terminal, plain periodic lines elsewhere.

The bar advances per finished sample and counts model calls as they return (a sample of a multi-turn
family can take minutes, so the call count shows the run is moving between samples). When the output
is not a terminal (a pipe, a CI log, a notebook's captured stream), a plain line is printed every
:data:`PLAIN_INTERVAL` seconds (also while one long model call runs) and once at the end.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass

from inspect_ai.hooks import Hooks, ModelUsageData, SampleEnd, hooks
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

PLAIN_INTERVAL = 30.0  # seconds between plain progress lines

_on_sample: Callable[[SampleEnd], None] | None = None
_on_call: Callable[[ModelUsageData], None] | None = None


@hooks(name="duress_progress", description="Advances duress's progress display as samples finish and models answer.")
class _ProgressHooks(Hooks):
    def enabled(self) -> bool:
        return _on_sample is not None

    async def on_sample_end(self, data: SampleEnd) -> None:
        if _on_sample is not None:
            _on_sample(data)

    async def on_model_usage(self, data: ModelUsageData) -> None:
        if _on_call is not None:
            _on_call(data)


@dataclass
class Tally:
    """What the display shows: samples finished (with errors) of ``total``, model calls returned."""

    total: int
    started: float
    done: int = 0
    errors: int = 0
    calls: int = 0

    def line(self, description: str, now: float) -> str:
        elapsed = now - self.started
        left = ""
        if 0 < self.done < self.total:
            left = f", about {_duration(elapsed / self.done * (self.total - self.done))} left"
        return (f"{description}: {self.done}/{self.total} samples ({self.errors} errors), {self.calls} model calls, "
                f"{_duration(elapsed)} elapsed{left}")


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


@contextmanager
def sample_progress(total: int, description: str, console: Console) -> Iterator[Tally]:
    """Show the run's progress while the block runs (see the module's docstring).

    Inspect announces registered hooks on standard output when an eval starts; that banner is
    about this very display, so it is swallowed (anything else Inspect prints goes to stderr).
    """
    global _on_sample, _on_call
    tally = Tally(total, time.monotonic())
    terminal = console.is_terminal and not console.quiet
    if console.file is sys.stdout:
        console = Console(file=sys.stdout, force_terminal=console.is_terminal, width=console.width, quiet=console.quiet)
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors · {task.fields[calls]} model calls"), TimeElapsedColumn(),
        TimeRemainingColumn(), console=console, transient=False, disable=not terminal,
    )
    bar = progress.add_task(description, total=total, errors=0, calls=0)
    last_line = tally.started

    def plain(force: bool = False) -> None:
        nonlocal last_line
        now = time.monotonic()
        if not terminal and not console.quiet and (force or now - last_line >= PLAIN_INTERVAL):
            last_line = now
            console.print(tally.line(description, now), highlight=False, markup=False, soft_wrap=True)

    def sample_ended(data: SampleEnd) -> None:
        tally.done += 1
        tally.errors += data.sample.error is not None
        progress.update(bar, completed=tally.done, errors=tally.errors)
        plain()

    def call_returned(data: ModelUsageData) -> None:
        tally.calls += 1
        progress.update(bar, calls=tally.calls)
        plain()

    _on_sample, _on_call = sample_ended, call_returned
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(1.0):
            plain()

    ticker = threading.Thread(target=tick, daemon=True)
    if not terminal:  # a line even while one long model call runs
        ticker.start()
    captured = io.StringIO()
    try:
        with progress, redirect_stdout(captured):
            yield tally
    finally:
        _on_sample = _on_call = None
        stop.set()
        if ticker.is_alive():
            ticker.join()
        plain(force=True)
        text = captured.getvalue()
        if text.strip() and not text.lstrip().startswith("inspect_ai v"):
            sys.stderr.write(text)
