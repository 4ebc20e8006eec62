"""The pieces a training run is made of, without training: the config -> TrainingArguments
mapping, the window collator, the console log lines."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from whosaid.config import TrainingSection
from whosaid.errors import ConfigError
from whosaid.training.arguments import ARGUMENTS, MANAGED, OWN, training_arguments
from whosaid.training.collator import WindowCollator
from whosaid.windows.encoding import IGNORE


def test_every_training_key_is_mapped_once():
    keys = {f.name for f in dataclasses.fields(TrainingSection)}
    assert keys == set(ARGUMENTS) | set(OWN)
    assert not set(ARGUMENTS) & set(OWN)
    assert not set(ARGUMENTS.values()) & MANAGED


def test_config_maps_onto_training_arguments(smoke_config, tmp_path):
    cfg = smoke_config("training.batch_size=3", "training.lr_scheduler=cosine", "training.report_to=[tensorboard]",
                       "training.arguments={max_grad_norm: 0.25, adam_beta2: 0.99}", "training.save_steps=0.5")
    args = training_arguments(cfg, tmp_path, has_dev=True)
    assert args.per_device_train_batch_size == 3 and args.learning_rate == cfg.training.learning_rate
    assert str(args.lr_scheduler_type).endswith("cosine") or args.lr_scheduler_type == "cosine"
    assert args.report_to == ["tensorboard"]
    assert args.max_grad_norm == 0.25 and args.adam_beta2 == 0.99
    assert args.save_steps == 0.5 and args.load_best_model_at_end is False
    assert not args.use_cpu   # a GPU is used where there is one
    assert training_arguments(smoke_config(), tmp_path, has_dev=False).report_to in ([], ["none"], "none")


@pytest.mark.parametrize("arguments, message", [
    ("{max_grad_nrom: 1.0}", "max_grad_nrom"),
    ("{seed: 3}", "seed (set by whosaid)"),
    ("{learning_rate: 0.1}", "use training.learning_rate"),
])
def test_training_arguments_passthrough_is_checked(smoke_config, arguments, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        smoke_config(f"training.arguments={arguments}")


def test_warmup_ratio_must_be_a_ratio(smoke_config):
    with pytest.raises(ConfigError, match="warmup_ratio"):
        smoke_config("training.warmup_ratio=5")


def test_collator_pads_through_the_tokenizer(tiny_encoder):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_encoder("roberta"))
    features = [{"input_ids": [0, 11, 12, 2], "labels": [[IGNORE, 1, 2, IGNORE], [IGNORE, 0, 0, IGNORE]]},
                {"input_ids": [0, 13, 2], "labels": [[IGNORE, 1, IGNORE], [IGNORE, 0, IGNORE]]}]
    batch = WindowCollator(tok)(features)
    assert set(batch) == {"input_ids", "attention_mask", "labels"}   # no token types: one segment
    assert batch["input_ids"].tolist() == [[0, 11, 12, 2], [0, 13, 2, tok.pad_token_id]]
    assert tok.pad_token_id == 1 and batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["labels"].shape == (2, 2, 4) and batch["labels"][1, :, 3].tolist() == [IGNORE, IGNORE]
    tok.padding_side = "left"
    left = WindowCollator(tok)(features)
    assert left["input_ids"][1].tolist() == [tok.pad_token_id, 0, 13, 2]
    assert left["labels"][1, 0].tolist() == [IGNORE, IGNORE, 1, IGNORE]


def test_console_log_lines_keep_numbers_numbers(capsys):
    from transformers import TrainerState

    from whosaid.training.trainer import NumbersPrinter

    state = TrainerState()
    state.global_step = 7
    logs = {"eval_micro_f1": 0.123456, "eval_attribution_f1": 0.5, "eval_attribution_CUE_f1": 0.25,
            "loss": torch.tensor(1.23456), "epoch": 2.0}
    NumbersPrinter().on_log(None, state, None, logs=logs)
    line = json.loads(capsys.readouterr().out)
    assert line == {"step": 7, "eval_micro_f1": 0.1235, "eval_attribution_f1": 0.5, "loss": 1.235, "epoch": 2.0}


def test_unknown_best_model_metric_fails_before_training(smoke_config, tmp_path):
    from whosaid.errors import WhosaidError
    from whosaid.training.train import train

    with pytest.raises(WhosaidError, match="metric_for_best_model: no dev metric 'attribution_CUE_F1'.*attribution_CUE_f1"):
        train(smoke_config("training.metric_for_best_model=attribution_CUE_F1"), tmp_path / "run")
    assert not list((tmp_path / "run").glob("checkpoints/checkpoint-*"))
