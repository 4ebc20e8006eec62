#!/usr/bin/env python
"""Span-level metrics: python evaluate.py --model DIR --data SOURCE [--output metrics.json]"""
import sys

from whosaid.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
