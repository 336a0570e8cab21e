"""Simulated tools. Importing this package registers the built-in toolsets."""

from duress.tools import mailbox  # noqa: F401  (registers "mailbox")
from duress.tools import terminal  # noqa: F401  (registers "shell")
