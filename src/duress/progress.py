"""A Rich progress bar fed by Inspect's sample hooks (active only while ``duress run`` asks)."""

from __future__ import annotations

from contextlib import contextmanager
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
    """Show a bar that advances once per finished sample (errored ones included)."""
    global _listener
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
    try:
        with progress:
            yield progress
    finally:
        _listener = None
