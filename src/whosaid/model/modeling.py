"""A transformers encoder with one token-classification head per schema layer.

Built on transformers' own `PretrainedConfig` / `PreTrainedModel`, so
`save_pretrained` / `from_pretrained` work (safetensors) and the schema, the label
maps and the encoding settings travel inside the saved model directory.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import TokenClassifierOutput

from whosaid.errors import ModelLoadError
from whosaid.files import check_model_dir
from whosaid.model.encoders import default_encoder_path, load_pretrained, quiet_transformers, resolve_encoder  # noqa: F401
from whosaid.schema import Schema
from whosaid.windows.encoding import IGNORE, EncodingSettings


log = logging.getLogger("whosaid.model")


def without_pooler(load, *args, **kwargs) -> PreTrainedModel:
    """`load(*args, **kwargs)` of an encoder without its pooling layer (the heads read
    token states only); encoders whose class has no such switch load as they are."""
    try:
        return load(*args, add_pooling_layer=False, **kwargs)
    except TypeError:
        return load(*args, **kwargs)


class WhosaidConfig(PretrainedConfig):
    """Encoder config (nested) + schema + encoding settings."""

    model_type = "whosaid"

    def __init__(self, encoder_config: dict | None = None, schema: dict | None = None,
                 window_length: int = 256, stride: int = 64, label_all_subtokens: bool = True,
                 classifier_dropout: float = 0.1, base_encoder: str | None = None,
                 stance_scope: str = "cue", layer_class_weights: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.encoder_config = encoder_config or {}
        self.schema = schema or {}
        self.window_length = window_length  # not `max_length`: that name is a generation setting
        self.stride = stride
        self.label_all_subtokens = label_all_subtokens
        self.classifier_dropout = classifier_dropout
        self.base_encoder = base_encoder
        self.stance_scope = stance_scope
        #: {layer: [weight per BIO tag]} for the cross-entropy of that layer (class balancing)
        self.layer_class_weights = layer_class_weights or {}

    @property
    def whosaid_schema(self) -> Schema:
        return Schema.from_dict(self.schema)

    @property
    def encoding(self) -> EncodingSettings:
        return EncodingSettings(self.window_length, self.stride, self.label_all_subtokens, self.stance_scope)

    def build_encoder_config(self) -> PretrainedConfig:
        cfg = dict(self.encoder_config)
        return AutoConfig.for_model(cfg.pop("model_type"), **cfg)


class WhosaidModel(PreTrainedModel):
    """Encoder + `heads[layer]` linear classifiers over its last hidden states.

    Loss: the sum over layers of token cross-entropy, each layer masked (-100) where
    a document does not annotate it; a layer with no labelled token in a batch adds 0.
    `config.layer_class_weights` weights a layer's tags (balancing rare stance labels).
    `labels` has shape [batch, n_layers, seq]; `logits` is the concatenation of the
    layers' tag logits along the last axis (see `layer_slices`).
    """

    config_class = WhosaidConfig
    base_model_prefix = "whosaid"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: WhosaidConfig, encoder: PreTrainedModel | None = None):
        super().__init__(config)
        enc_cfg = config.build_encoder_config()
        self.encoder = encoder if encoder is not None else without_pooler(AutoModel.from_config, enc_cfg)
        schema = config.whosaid_schema
        hidden = enc_cfg.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.heads = nn.ModuleDict({layer: nn.Linear(hidden, len(schema.bio_labels(layer)))
                                    for layer in schema.layer_names})
        self.post_init()

    def _init_weights(self, module):
        # The encoder initialises (or loads) its own weights; only the heads are new.
        if isinstance(module, nn.Linear) and module.out_features != self.config.build_encoder_config().hidden_size:
            module.weight.data.normal_(0.0, 0.02)
            if module.bias is not None:
                module.bias.data.zero_()

    @classmethod
    def from_encoder(cls, encoder: str, schema: Schema, settings: EncodingSettings,
                     classifier_dropout: float = 0.1, random_init: bool = False,
                     encoder_overrides: dict | None = None) -> "WhosaidModel":
        """A new model on top of an encoder: `default`, a local checkpoint directory or a
        model-hub id (`whosaid.model.encoders`); with `random_init`, its architecture only
        (e.g. a tiny config for tests)."""
        enc_cfg = load_pretrained(AutoConfig.from_pretrained, encoder, **(encoder_overrides or {}))
        if random_init:
            enc = without_pooler(AutoModel.from_config, enc_cfg)
        else:
            with quiet_transformers():  # its load report lists the pooler left out on purpose
                enc, info = without_pooler(load_pretrained, AutoModel.from_pretrained, encoder, config=enc_cfg,
                                           output_loading_info=True)
            missing = info.get("missing_keys") or []
            unused = [k for k in info.get("unexpected_keys") or [] if not k.startswith("pooler.")]
            log.info("encoder %s: %s", encoder, "weights loaded" if not (missing or unused) else
                     f"{len(missing)} weights newly initialised, {len(unused)} checkpoint weights unused")
            if missing:
                log.warning("encoder %s: weights not in the checkpoint, initialised at random: %s", encoder,
                            ", ".join(sorted(missing)[:8]) + (" ..." if len(missing) > 8 else ""))
        enc_dict = enc.config.to_dict()
        for key in ("architectures", "transformers_version", "_name_or_path", "torch_dtype", "dtype"):
            enc_dict.pop(key, None)
        config = WhosaidConfig(encoder_config=enc_dict, schema=schema.to_dict(),
                               window_length=settings.max_length, stride=settings.stride,
                               label_all_subtokens=settings.label_all_subtokens,
                               stance_scope=settings.stance_scope,
                               classifier_dropout=classifier_dropout, base_encoder=str(encoder))
        return cls(config, encoder=enc)

    @property
    def layer_slices(self) -> dict[str, slice]:
        out, i = {}, 0
        for layer, head in self.heads.items():
            out[layer] = slice(i, i + head.out_features)
            i += head.out_features
        return out

    @property
    def uses_token_type_ids(self) -> bool:
        """Whether the encoder reads token types (BERT, RoBERTa, ELECTRA; not DeBERTa-v2 or
        DistilBERT). Windows hold one segment, so token types are all 0 where given at all."""
        takes = "token_type_ids" in inspect.signature(self.encoder.forward).parameters
        return takes and getattr(self.encoder.config, "type_vocab_size", 0) > 0

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
        kw = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None and self.uses_token_type_ids:
            kw["token_type_ids"] = token_type_ids
        hidden = self.dropout(self.encoder(**kw).last_hidden_state)
        logits = [head(hidden) for head in self.heads.values()]
        loss = None
        if labels is not None:
            loss = hidden.new_zeros(())
            weights = self.config.layer_class_weights or {}
            for i, (layer, layer_logits) in enumerate(zip(self.heads, logits)):
                target = labels[:, i, :]
                if (target != IGNORE).any():
                    w = weights.get(layer)
                    loss = loss + nn.functional.cross_entropy(
                        layer_logits.reshape(-1, layer_logits.shape[-1]).float(), target.reshape(-1),
                        ignore_index=IGNORE,
                        weight=None if w is None else torch.tensor(w, dtype=torch.float32, device=hidden.device))
        return TokenClassifierOutput(loss=loss, logits=torch.cat(logits, dim=-1))


AutoConfig.register("whosaid", WhosaidConfig)
AutoModel.register(WhosaidConfig, WhosaidModel)


def load_config(path: str | Path) -> WhosaidConfig:
    """The `WhosaidConfig` of a saved model directory, with a clear error when it is not one."""
    path = check_model_dir(path)
    try:
        config = WhosaidConfig.from_pretrained(path)
    except Exception as exc:  # corrupt config.json
        raise ModelLoadError(f"cannot read {path / 'config.json'}: {type(exc).__name__}: {exc}") from exc
    if config.model_type != "whosaid" or not config.schema or not config.encoder_config:
        raise ModelLoadError(f"{path} does not hold a whosaid model (config.json lacks schema/encoder)")
    return config


def load_model(path: str | Path) -> WhosaidModel:
    """Load a saved model directory with a clear error when it is not one."""
    config = load_config(path)
    try:
        # float32 whatever the stored precision: a shipped float16 checkpoint runs in
        # float32 on the CPU (fp16 -> fp32 is exact, so predictions match the fp32 run's)
        return WhosaidModel.from_pretrained(path, config=config).float()
    except Exception as exc:  # corrupt weights, incompatible shapes, ...
        raise ModelLoadError(f"cannot load model from {path}: {type(exc).__name__}: {exc}") from exc
