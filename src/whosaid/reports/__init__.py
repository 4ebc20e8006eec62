"""Reports for people: `comparison` (runs side by side), `model_card` and `html`
(predictions as a page)."""
