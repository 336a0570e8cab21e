"""Per-sample limits every duress task sets by default (light: the CLI reads them before importing Inspect)."""

SAMPLE_TIME_LIMIT = 1800  # seconds of working time per sample: a hung provider cannot stall a run forever
MESSAGE_LIMIT = 300  # messages per sample (a long multi-turn episode has ~100)
