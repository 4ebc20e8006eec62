"""Readers and writers of every data source: Label Studio exports, PolNeAR, seed
articles, gold overlays, user inputs, and `sources` to name any of them by path."""
