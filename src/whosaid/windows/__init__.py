"""Documents <-> model windows: `encoding` (documents -> windows with BIO label rows)
and `decoding` (window probabilities -> spans)."""
