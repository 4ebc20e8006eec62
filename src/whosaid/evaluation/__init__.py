"""Scoring: `metrics` (span, attribution and stance metrics), `evaluate` (a saved
model on annotated data), `silver_eval` (the silver labellers on gold) and `stats`
(what a data source holds)."""
