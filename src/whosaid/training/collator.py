"""Batches of training windows: the tokenizer pads the model inputs, the collator pads
the [layers, positions] label rows to the same width.

A window already holds the encoder's special tokens (`whosaid.windows.encoding`), so
nothing is added here. Padding goes through `tokenizer.pad`, which knows the encoder's
pad token and padding side; the labels follow that side, with -100 (ignored by the
loss) at every padded position. Only the inputs a window carries are batched: the
windows hold one segment, so `token_type_ids` are never built (every encoder reads
missing token types as type 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from whosaid.windows.encoding import IGNORE


@dataclass
class WindowCollator:
    """`collator(features)` -> {"input_ids", "attention_mask", "labels"} tensors, where each
    feature is {"input_ids": [ids], "labels": [[tag id per position] per layer]}."""

    tokenizer: Any
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict]) -> dict:
        inputs = [{"input_ids": f["input_ids"]} for f in features]
        batch = self.tokenizer.pad(inputs, padding=True, pad_to_multiple_of=self.pad_to_multiple_of,
                                   return_attention_mask=True, return_tensors="pt")
        batch = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask")}
        if "labels" in features[0] and features[0]["labels"] is not None:
            width = batch["input_ids"].shape[1]
            n_layers = len(features[0]["labels"])
            labels = torch.full((len(features), n_layers, width), IGNORE, dtype=torch.long)
            left = getattr(self.tokenizer, "padding_side", "right") == "left"
            for i, f in enumerate(features):
                n = len(f["input_ids"])
                cols = slice(width - n, width) if left else slice(0, n)
                labels[i, :, cols] = torch.tensor(f["labels"], dtype=torch.long)
            batch["labels"] = labels
        return dict(batch)
