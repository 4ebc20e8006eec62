"""How good are the figure and stance layers, on gold data? (`whosaid silver-eval`)

On the documents that carry *gold* figure and stance annotations (the PolNeAR dev
overlays in data/polnear-gold/dev and the seed gold), it reports side by side:

- the silver labellers alone: FIGURE strict/overlap P/R/F1 of `label_figures`, and
  the stance accuracy / macro-F1 of `label_stance` on the gold attributions' cues;
- a trained model (optional `--model`): FIGURE strict/overlap P/R/F1 and the stance
  it predicts on the gold attributions' cues (so stance is scored independently of
  whether the model found the attribution).
"""

from __future__ import annotations

from dataclasses import replace

from whosaid.documents import Document
from whosaid.errors import WhosaidError
from whosaid.schema import FIGURE, STANCE, Schema


def gold_documents(sources: list[str], polnear: str | None, overlays: str) -> list[Document]:
    """Documents of the sources whose figure AND stance layers are gold."""
    from whosaid.evaluation.evaluate import load_gold

    docs = []
    for spec in sources:
        loaded, _ = load_gold(spec, polnear=polnear, overlays=overlays)
        docs += [d for d in loaded if d.provenance.get(FIGURE, "gold") == "gold"
                 and d.provenance.get(STANCE, "gold") == "gold" and {FIGURE, STANCE} <= d.layers]
    if not docs:
        raise WhosaidError("no document with gold figure and stance layers in " + ", ".join(sources))
    return docs


def silver_predictions(gold: list[Document]) -> list[Document]:
    """The silver labellers run on the gold text and gold attributions (stance is
    labelled on the gold cues: the labeller's input is an attribution)."""
    from whosaid.silver import add_silver_layers

    stripped = [replace(d, spans=tuple(s for s in d.spans if s.layer not in (FIGURE, STANCE)),
                        attributions=tuple(replace(a, stance=None, stance_score=None) for a in d.attributions),
                        layers=d.layers - {FIGURE, STANCE},
                        provenance={k: v for k, v in d.provenance.items() if k not in (FIGURE, STANCE)})
                for d in gold]
    return [add_silver_layers(d, {FIGURE, STANCE}) for d in stripped]


def quality(gold: list[Document], predicted: list[Document], schema: Schema) -> dict:
    from whosaid.evaluation.metrics import compute_metrics, stance_on_gold_cues

    figure_schema = Schema(layers={FIGURE: schema.layers[FIGURE]}, to_name=schema.to_name)
    only_fig = lambda docs: [replace(d, spans=tuple(s for s in d.spans if s.layer == FIGURE),  # noqa: E731
                                     attributions=(), layers=d.layers & {FIGURE}) for d in docs]
    m = compute_metrics(only_fig(gold), only_fig(predicted), figure_schema)
    return {"figure": {"strict": m["layers"][FIGURE]["FIGURE"], "overlap": m["overlap"][FIGURE]["FIGURE"]},
            "stance_on_gold_cues": stance_on_gold_cues(gold, predicted)}


def format_quality(result: dict) -> str:
    rows = ["| system | FIGURE strict P | R | F1 | FIGURE overlap F1 | stance accuracy | stance macro-F1 | stance support |",
            "|---|---|---|---|---|---|---|---|"]
    for name, r in result["systems"].items():
        s, o, st = r["figure"]["strict"], r["figure"]["overlap"], r["stance_on_gold_cues"]
        rows.append(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {o['f1']:.3f} | "
                    f"{st['accuracy']:.3f} | {st['macro_f1']:.3f} | {st['support']} |")
    d = result["data"]
    rows.append(f"\n{d['documents']} documents with gold figure+stance ({', '.join(d['sources'])}): "
                f"{d['figures']} gold figures, {d['attributions']} gold attributions with stance.")
    return "\n".join(rows)


def default_sources(polnear: str | None = None) -> list[str]:
    """The PolNeAR dev overlays and the seed gold."""
    from whosaid.files import resolve_polnear_root

    return [f"{resolve_polnear_root(polnear)}:dev", "data/seed-gold.json"]


def silver_eval(sources: list[str], *, polnear: str | None = None, overlays: str = "data/polnear-gold",
                predictor=None, model_name: str | None = None) -> dict:
    """The silver labellers (and a `Predictor`'s model, if given) scored on the gold
    figure and stance layers of `sources`."""
    gold = gold_documents(sources, polnear, overlays)
    schema = Schema.default()
    result = {"systems": {"silver labellers": quality(gold, silver_predictions(gold), schema)}}
    if predictor is not None:
        result["systems"][f"model {model_name}"] = quality(gold, predictor.predict_documents(gold), schema)
    result["data"] = {"sources": [str(s) for s in sources], "documents": len(gold),
                      "figures": sum(len(d.spans_in(FIGURE)) for d in gold),
                      "attributions": sum(1 for d in gold for a in d.attributions if a.stance)}
    return result
