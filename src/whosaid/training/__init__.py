"""Training: `data` (the documents a config names) and `train` (the run)."""
