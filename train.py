#!/usr/bin/env python
"""Train a model from a config: python train.py --config configs/seed.yaml [--output-dir DIR] [--set k=v ...]"""
import sys

from whosaid.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
