"""A tiny randomly initialised whosaid model saved to disk, for tests of inference."""

from __future__ import annotations

from pathlib import Path

from whosaid.schema import Schema
from whosaid.windows.encoding import EncodingSettings

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def build_tiny_model(directory: Path, settings: EncodingSettings = EncodingSettings(64, 16), seed: int = 0) -> Path:
    """A random 2-layer model with the default tokenizer; large head weights make it
    predict decisive (if meaningless) spans."""
    import torch
    from transformers import AutoTokenizer

    from whosaid.model.modeling import WhosaidModel, resolve_encoder

    torch.manual_seed(seed)
    model = WhosaidModel.from_encoder("default", Schema.default(), settings, random_init=True,
                                      encoder_overrides=TINY)
    for head in model.heads.values():
        torch.nn.init.normal_(head.weight, std=0.5)
    model.save_pretrained(directory)
    AutoTokenizer.from_pretrained(resolve_encoder("default")).save_pretrained(directory)
    return directory
