#!/usr/bin/env python
"""Attribution records for articles: python predict.py --model DIR [--format jsonl|labelstudio|html] [--output PATH] INPUT..."""
import sys

from whosaid.cli.predict import main

if __name__ == "__main__":
    sys.exit(main())
