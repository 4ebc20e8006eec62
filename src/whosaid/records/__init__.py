"""Predicted spans -> attributions -> article records (`records`), and records as
output files (`output`)."""
