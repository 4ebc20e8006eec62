"""Span-level scores of an in-memory model on gold dev documents: what the Trainer's
evaluation logs and selects the best model on (also used by the update recipe)."""

from __future__ import annotations


def evaluate_model(model, tokenizer, documents, constrained: bool = True, batch_size: int = 32) -> dict:
    """Span-level metrics of an in-memory model on gold documents, decoded by the same
    `Predictor` path users get."""
    from whosaid.evaluation.metrics import compute_metrics
    from whosaid.inference.predictor import Predictor, TorchBackend

    cfg = model.config
    predictor = Predictor(TorchBackend(model), tokenizer, cfg.whosaid_schema, cfg.encoding,
                          batch_size=batch_size, constrained=constrained)
    predicted = predictor.predict_documents(documents) if documents else []
    return compute_metrics(list(documents), predicted, cfg.whosaid_schema)


def flat_metrics(metrics: dict) -> dict[str, float]:
    """The scalar metrics logged at each evaluation and used for model selection."""
    out = {}
    micro = [v["micro"]["f1"] for v in metrics.get("layers", {}).values() if "micro" in v]
    out["micro_f1"] = sum(micro) / len(micro) if micro else 0.0
    for layer, v in metrics.get("layers", {}).items():
        for label, m in v.items():
            out[f"{layer}_{label}_f1"] = m["f1"]
    if "attributions" in metrics:
        out["attribution_f1"] = metrics["attributions"]["f1"]
    if "stance" in metrics:
        out["stance_macro_f1"] = metrics["stance"]["macro_f1"]
    return out


def selectable_metrics(schema) -> list[str]:
    """The names `training.metric_for_best_model` can take with this schema."""
    names = ["micro_f1", "attribution_f1", "stance_macro_f1"]
    for layer in schema.layer_names:
        names += [f"{layer}_{label}_f1" for label in (*schema.layers[layer], "micro", "macro")]
    return names
