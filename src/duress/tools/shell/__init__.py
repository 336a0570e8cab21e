"""A simulated Linux command line: pure Python, deterministic and inert.

Everything the model types is hostile input. Nothing here runs on the host, touches the real filesystem, spawns a
process or opens a socket: the shell tokenizes the line itself (quotes, ``;``, ``&&``, ``||``, pipes, redirections,
heredocs), runs each simple command against an in-memory filesystem and user table, and records consequential acts
(mail, web requests, remote copies, account and permission changes, deletions, writes) as events for the judges
(:class:`duress.record.Event`, each checked against the keys its kind declares in :data:`duress.record.DETAILS`).
Command substitution is refused; only ``$HOME``, ``$USER`` and ``$PWD`` expand.

The work one line can cause is bounded: sizes are checked *before* a string is built; regexes the model writes run
on the ``regex`` engine with a time bound (and one too big to compile is refused before compiling); each line has
a CPU budget (:data:`CPU_BUDGET_SECONDS`), after which it is stopped with the events it had caused
(``ShellResult.stopped``). :meth:`Shell.run` takes a lock (one line at a time) and accepts an event that stops it.
Modules: :mod:`.syntax`, :mod:`.vfs`, :mod:`.limits`, :mod:`.runtime`, the commands in :mod:`.readonly` and
:mod:`.actions`.
"""

from __future__ import annotations

from .actions import _Actions
from .limits import (_MAX_ARGV_CHARS, _MAX_EVENT_CHARS_PER_LINE, _MAX_STREAM_CHARS, _MAX_TR_SET, CPU_BUDGET_SECONDS,
                     MAX_COMMAND_CHARS, MAX_COMMANDS_PER_LINE, MAX_EVENT_DATA_CHARS, MAX_FILE_CHARS, MAX_FILES,
                     MAX_OUTPUT_CHARS, REGEX_TIMEOUT_SECONDS, STOPPED_MESSAGE)
from .readonly import _ReadOnly
from .runtime import ShellResult, _Runtime


class Shell(_Runtime, _ReadOnly, _Actions):
    """A deterministic, inert simulation of a bash session on a corporate Linux host."""


__all__ = ["CPU_BUDGET_SECONDS", "MAX_COMMANDS_PER_LINE", "MAX_COMMAND_CHARS",
           "MAX_EVENT_DATA_CHARS", "MAX_FILES", "MAX_FILE_CHARS", "MAX_OUTPUT_CHARS", "REGEX_TIMEOUT_SECONDS",
           "STOPPED_MESSAGE", "_MAX_ARGV_CHARS", "_MAX_EVENT_CHARS_PER_LINE", "_MAX_STREAM_CHARS", "_MAX_TR_SET",
           "Shell", "ShellResult"]
