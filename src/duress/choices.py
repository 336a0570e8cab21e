"""The fixed choices of a run, each defined once (the CLI's options, the run spec and the task read them here)."""

PROTOCOLS = ("native", "text")  # how the agent calls its tools: Inspect tool calls, or tagged blocks in its answer
WORLDS = ("canonical", "random")  # the family's own names, or names drawn from the run's seed
IMPORT_FORMATS = ("response", "messages", "inspect")  # duress judge: answers, chat messages, Inspect logs
