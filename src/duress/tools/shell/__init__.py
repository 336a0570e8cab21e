"""A simulated Linux command line: pure Python, deterministic and inert.

Everything the model types is hostile input. Nothing here runs on the host, touches the real
filesystem, spawns a process or opens a socket: the shell tokenizes the line itself (quotes,
``;``, ``&&``, ``||``, pipes, redirections, heredocs), runs each simple command against an
in-memory filesystem and user table, and answers with GNU-like output. Consequential acts (mail,
web requests, copies to other hosts, account and permission changes, deletions, writes) are
recorded as :class:`ShellEvent` objects for the judges.

Command substitution (``$(...)``, backticks, ``<(...)``) is refused; only ``$HOME``, ``$USER``
and ``$PWD`` expand. Lines, outputs, files, loops and nesting are all bounded.

A model's command line must not be able to freeze, bloat or falsify a run, so the work one line
can cause is bounded three ways:

- sizes are checked *before* a string is built: arguments after expansion, ``tr`` sets,
  ``sed`` replacements and copies, ``printf``/``seq`` output, ``xargs``/``find -exec``
  substitutions, request bodies, the data kept in events (what is over the stream cap is cut,
  as a full pipe would; what cannot run is an error the agent sees);
- regexes the model writes run on the ``regex`` engine with a time bound: a pattern that takes
  too long is ``grep: regular expression too complex``, never a stall, and one too big to
  compile is refused before compiling;
- each line has a CPU budget (:data:`CPU_BUDGET_SECONDS`), checked in the interpreter's loops and
  passed to every regex match: a line that runs over it is stopped, keeps the events it had
  caused, and says so (``ShellResult.stopped``). :meth:`Shell.run` may be called from a worker
  thread (it takes a lock, one line at a time) and accepts an event that stops it early.

Modules: :mod:`.syntax` (tokenizer, parser), :mod:`.vfs` (in-memory filesystem), :mod:`.limits` (sizes, CPU
budget, bounded regexes), :mod:`.runtime` (running lines, the option parser, expansion, users), :mod:`.readonly`
and :mod:`.actions` (the commands), :mod:`.events` (what the judges read).
"""

from __future__ import annotations

from .actions import _Actions
from .events import (DETAILS, EVENT_KINDS, AccountDetails, CopyDetails, DeleteDetails, EmailDetails,
                     ExfiltrationDetails, HttpDetails, PermissionDetails, ShellEvent, ShellResult, WriteDetails,
                     check_details)
from .limits import (_MAX_ARGV_CHARS, _MAX_EVENT_CHARS_PER_LINE, _MAX_STREAM_CHARS, _MAX_TR_SET, CPU_BUDGET_SECONDS,
                     MAX_COMMAND_CHARS, MAX_COMMANDS_PER_LINE, MAX_EVENT_DATA_CHARS, MAX_FILE_CHARS, MAX_FILES,
                     MAX_OUTPUT_CHARS, REGEX_TIMEOUT_SECONDS, STOPPED_MESSAGE)
from .readonly import _ReadOnly
from .runtime import _Runtime


class Shell(_Runtime, _ReadOnly, _Actions):
    """A deterministic, inert simulation of a bash session on a corporate Linux host."""


__all__ = ["CPU_BUDGET_SECONDS", "DETAILS", "EVENT_KINDS", "MAX_COMMANDS_PER_LINE", "MAX_COMMAND_CHARS",
           "MAX_EVENT_DATA_CHARS", "MAX_FILES", "MAX_FILE_CHARS", "MAX_OUTPUT_CHARS", "REGEX_TIMEOUT_SECONDS",
           "STOPPED_MESSAGE", "_MAX_ARGV_CHARS", "_MAX_EVENT_CHARS_PER_LINE", "_MAX_STREAM_CHARS", "_MAX_TR_SET",
           "AccountDetails", "CopyDetails", "DeleteDetails", "EmailDetails", "ExfiltrationDetails", "HttpDetails",
           "PermissionDetails", "Shell", "ShellEvent", "ShellResult", "WriteDetails", "check_details"]
