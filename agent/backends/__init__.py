"""Answer backends: `offline` (deterministic, no network; the default) and `claude`."""
