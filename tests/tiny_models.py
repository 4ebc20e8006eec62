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


# ------------------------------------------------------------------ tiny encoders of other families

def _seed_texts() -> list[str]:
    import json

    root = Path(__file__).resolve().parents[1]
    return [t["data"]["text"] for t in json.loads((root / "data" / "seed-gold.json").read_text(encoding="utf-8"))]


def build_tiny_encoder(kind: str, directory: Path, seed: int = 0) -> Path:
    """A randomly initialised 2-layer encoder checkpoint (config, weights, tokenizer) of
    `kind` ("roberta", "deberta-v2", "electra") in `directory`, usable as `model.encoder`.

    RoBERTa gets a byte-level BPE tokenizer (<s> ... </s>, pad id 1) and
    DeBERTa-v2 a SentencePiece-style unigram tokenizer (offsets include the space before
    a word; no token types), both trained on the seed article in a second; ELECTRA reuses
    the shipped MiniLM WordPiece tokenizer."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    size = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    if kind == "roberta":
        from tokenizers import ByteLevelBPETokenizer
        from transformers import RobertaConfig, RobertaTokenizerFast

        bpe = ByteLevelBPETokenizer(add_prefix_space=False, trim_offsets=True)
        bpe.train_from_iterator(_seed_texts(), vocab_size=400, min_frequency=1,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
        tok = RobertaTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                   cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
        config = RobertaConfig(vocab_size=len(tok), max_position_embeddings=260, type_vocab_size=1,
                               pad_token_id=tok.pad_token_id, bos_token_id=0, eos_token_id=2, **size)
    elif kind == "deberta-v2":
        from tokenizers import SentencePieceUnigramTokenizer
        from transformers import DebertaV2Config

        try:
            from transformers import DebertaV2TokenizerFast as DebertaTokenizer
        except ImportError:  # transformers 5: the tokenizers-backed class has the plain name
            from transformers import DebertaV2Tokenizer as DebertaTokenizer
        uni = SentencePieceUnigramTokenizer()
        uni.train_from_iterator(_seed_texts(), vocab_size=300, unk_token="[UNK]", show_progress=False,
                                special_tokens=["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"])
        tok = DebertaTokenizer(tokenizer_object=uni, bos_token="[CLS]", eos_token="[SEP]", unk_token="[UNK]",
                               sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
        config = DebertaV2Config(vocab_size=len(tok), max_position_embeddings=256, type_vocab_size=0,
                                 relative_attention=True, position_buckets=16, pos_att_type=["p2c", "c2p"],
                                 pad_token_id=tok.pad_token_id, **size)
    elif kind == "electra":
        from transformers import ElectraConfig

        from whosaid.model.encoders import default_encoder_path

        tok = AutoTokenizer.from_pretrained(default_encoder_path())
        config = ElectraConfig(vocab_size=len(tok), embedding_size=16, max_position_embeddings=256,
                               pad_token_id=tok.pad_token_id, **size)
    else:
        raise ValueError(kind)
    torch.manual_seed(seed)
    AutoModel.from_config(config).save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


class HashBackend:
    """Logits from the token ids alone: decisive, deterministic and cheap (a stand-in
    for a model backend in tests of the input/output handling)."""

    def __init__(self, width: int):
        self.width = width

    def __call__(self, input_ids, attention_mask):
        import numpy as np

        tags = (input_ids * 2654435761 % 97)[..., None] % self.width
        return np.where(np.arange(self.width) == tags, 6.0, 0.0).astype(np.float32)
