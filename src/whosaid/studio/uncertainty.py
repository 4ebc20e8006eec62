"""How unsure the model is about an article: the `score` that puts the most
informative tasks first.

The measure (one number in [0, 1] per article; higher = more uncertain = more worth
annotating):

1. For every layer and every decoding unit (a sub-token, or a word when the model
   labels first sub-tokens only), the *normalised entropy* of the tag distribution
   the decoder sees, i.e. after the overlapping windows' probabilities are merged:
   H(p) / log(K) with K the layer's number of BIO tags. 0 = one tag has all the
   mass, 1 = all tags equally likely.
2. Per layer, the mean over the article's `TOP_FRACTION` (5%) most uncertain units,
   but at least `MIN_UNITS` (8) of them (all units of a shorter article). A plain
   mean over all units would be dominated by the many easy "O" tokens and would
   rank articles by length; the top slice measures the hard regions (span
   boundaries, unclear cues, stance) and is comparable across article lengths.
3. The article score is the mean of the layer scores.

Region-level `score`s in a prediction stay what the decoder reports (a span's mean
tag probability, a confidence); only the prediction's article-level `score` is this
uncertainty, so Label Studio's sort by prediction score, descending, shows the
most uncertain tasks first.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from whosaid.documents import Document

TOP_FRACTION = 0.05
MIN_UNITS = 8
MEASURE = (f"mean normalised tag entropy of the {TOP_FRACTION:.0%} most uncertain tokens "
           f"(at least {MIN_UNITS}) per layer, averaged over layers; 0 = certain, 1 = uniform")


def normalised_entropy(probs: np.ndarray) -> np.ndarray:
    """H(p) / log(K) of each row of `probs` ([units, K]); rows need not be exactly normalised."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"expected a [units, tags] array, got shape {probs.shape}")
    k = probs.shape[1]
    if k < 2 or probs.shape[0] == 0:
        return np.zeros(probs.shape[0])
    p = np.clip(probs, 0.0, None)
    p = p / np.maximum(p.sum(-1, keepdims=True), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(-1)
    return np.clip(h / np.log(k), 0.0, 1.0) + 0.0  # + 0.0: no -0.0


def top_mean(values: np.ndarray, fraction: float = TOP_FRACTION, minimum: int = MIN_UNITS) -> float:
    """Mean of the largest max(minimum, ceil(fraction * n)) values (all of them when fewer)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if not len(values):
        return 0.0
    k = min(len(values), max(minimum, int(np.ceil(fraction * len(values)))))
    return float(np.partition(values, len(values) - k)[len(values) - k:].mean())


def article_uncertainty(layer_probs: dict[str, np.ndarray], fraction: float = TOP_FRACTION,
                        minimum: int = MIN_UNITS) -> float:
    """The article score from each layer's per-unit tag probabilities ([units, tags])."""
    scores = [top_mean(normalised_entropy(p), fraction, minimum) for p in layer_probs.values()]
    return float(np.mean(scores)) if scores else 0.0


def predict_scored(predictor, docs: Sequence[Document], progress: bool = False) -> list[tuple[Document, float]]:
    """Predicted documents (as `Predictor.predict_documents` returns them) with their
    uncertainty: one forward pass serves both."""
    from whosaid.windows.decoding import _units

    toks, probs = predictor.token_probs(docs, progress=progress)
    predicted = predictor.decode(toks, probs)
    out = []
    for i, doc in enumerate(predicted):
        rows = _units(toks[i], predictor.settings)[:, 0]  # the sub-token each decoding unit is read from
        layers = {layer: p[i][rows] for layer, p in probs.items() if p[i] is not None}
        out.append((doc, article_uncertainty(layers)))
    return out


# ------------------------------------------------------------------------ suggestions


def _annotated(task) -> bool:
    """A task someone annotated or skipped: not to be suggested again."""
    from whosaid.studio.client import _get

    done = (_get(task, "total_annotations") or 0) + (_get(task, "cancelled_annotations") or 0)
    return done > 0 or bool(_get(task, "annotations"))


def _latest_prediction(task):
    from whosaid.studio.client import _get

    preds = [p for p in (_get(task, "predictions") or []) if _get(p, "score") is not None]
    return max(preds, key=lambda p: _get(p, "id") or 0) if preds else None


def suggest_tasks(client, project_id: int, k: int, predictor=None) -> tuple[list[dict], int]:
    """The `k` most uncertain tasks of a project that nobody annotated or skipped, most
    uncertain first, and how many such tasks could not be ranked.

    With a `predictor` every such task is scored now; without one, by the `score` of
    its latest prediction (the model server's uncertainty), and tasks without a scored
    prediction are counted as unranked."""
    from whosaid.studio.client import _all_tasks, _get, get_project

    get_project(client, project_id)  # a missing project is a 404, not an empty list
    todo = [t for t in _all_tasks(client, project_id, with_predictions=True) if not _annotated(t)]
    rows, unranked = [], 0
    if predictor is not None:
        texts = [(t, (_get(t, "data") or {}).get("text")) for t in todo]
        usable = [(t, x) for t, x in texts if isinstance(x, str) and x.strip()]
        unranked = len(texts) - len(usable)
        scored = predict_scored(predictor, [Document(id=str(_get(t, "id")), text=x) for t, x in usable])
        for (t, _), (_, score) in zip(usable, scored):
            rows.append((t, score, predictor.model_version))
    else:
        for t in todo:
            pred = _latest_prediction(t)
            if pred is None:
                unranked += 1
            else:
                rows.append((t, float(_get(pred, "score")), _get(pred, "model_version")))
    rows.sort(key=lambda r: (-r[1], _get(r[0], "id") or 0))
    out = []
    for t, score, version in rows[:k]:
        data = _get(t, "data") or {}
        text = data.get("text") if isinstance(data.get("text"), str) else ""
        out.append({"task": _get(t, "id"), "score": round(score, 6), "model_version": version,
                    "id": data.get("id"), "title": " ".join(text.split())[:70]})
    return out, unranked
