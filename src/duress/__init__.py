"""duress: stress-tests AI agents for high-stakes misaligned behaviour, on Inspect AI."""

__version__ = "0.1.0"
