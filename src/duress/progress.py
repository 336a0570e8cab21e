"""A Rich progress bar fed by Inspect's sample hooks (active only while ``duress run`` asks)."""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager, redirect_stdout
from typing import Callable, Iterator

from inspect_ai.hooks import Hooks, SampleEnd, hooks
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

_listener: Callable[[SampleEnd], None] | None = None


@hooks(name="duress_progress", description="Advances duress's progress bar as samples finish.")
class _ProgressHooks(Hooks):
    def enabled(self) -> bool:
        return _listener is not None

    async def on_sample_end(self, data: SampleEnd) -> None:
        if _listener is not None:
            _listener(data)


@contextmanager
def sample_progress(total: int, description: str, console: Console) -> Iterator[Progress]:
    """Show a bar that advances once per finished sample (errored ones included).

    Inspect announces registered hooks on standard output when an eval starts; that banner is
    about this very bar, so it is swallowed (anything else Inspect prints goes to stderr).
    """
    global _listener
    if console.file is sys.stdout:
        console = Console(file=sys.stdout, force_terminal=console.is_terminal, width=console.width)
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, transient=False,
    )
    bar = progress.add_task(description, total=total, errors=0)
    errors = 0

    def advance(data: SampleEnd) -> None:
        nonlocal errors
        if data.sample.error is not None:
            errors += 1
        progress.update(bar, advance=1, errors=errors)

    _listener = advance
    captured = io.StringIO()
    try:
        with progress, redirect_stdout(captured):
            yield progress
    finally:
        _listener = None
        text = captured.getvalue()
        if text.strip() and not text.lstrip().startswith("inspect_ai v"):
            sys.stderr.write(text)
