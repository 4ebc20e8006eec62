#!/usr/bin/env python
"""Does annotating the most uncertain articles first help? A simulated annotation loop.

    python benchmarks/active_learning.py --seed-model runs/seed/model \
        [--recipe configs/update.yaml] [--pool polnear:train] [--rounds 3] [--per-round 20] \
        [--strategies uncertainty random] [--pool-limit N] [--set KEY=VALUE ...] \
        [--workdir runs/active-learning] [--output docs/active-learning.md]

Start from the seed model. Each round, per strategy, 20 more articles of the pool
(PolNeAR train, whose gold annotations stand in for the annotator) are "annotated":

* `uncertainty`: the 20 the current model is least sure about (the `score` the model
  server gives Label Studio: `whosaid.studio.uncertainty`);
* `random`: 20 drawn at random (seeded).

Then the update recipe runs exactly as `whosaid studio train` runs it on a project
export: continue from the current model on all articles annotated so far (20% held
out by task id) plus the recipe's replay data, evaluate on the held-out part and the
recipe's dev data (PolNeAR dev), keep the new model only if it is not worse
(`--no-gate` always continues from the new one). Reported after each round: the dev
scores of the model the loop continues with and of the round's candidate, whether
it was accepted, and the time the round took. The markdown table goes to stdout and
`--output`; everything in `WORKDIR/results.json`, the runs under `WORKDIR/<strategy>/`.

Cost: each round scores the remaining pool with the current model (uncertainty
only; `--pool-limit N` draws a seeded subset of N pool articles), one update, and
one dev evaluation of the candidate.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def source_section(spec: str):
    from whosaid.config import SourceSection

    if spec.startswith("polnear:"):
        return SourceSection(polnear=spec.split(":", 1)[1], overlays=str(REPO / "data" / "polnear-gold"))
    return SourceSection(path=spec, overlays="")


def dev_scores(metrics: dict | None) -> dict:
    """Strict micro F1 over layers (the update's decision metric) and attribution micro F1."""
    from whosaid.training.dev_eval import flat_metrics

    if not metrics:
        return {"micro_f1": None, "attribution_f1": None}
    layers = metrics.get("layers", {})
    return {"micro_f1": flat_metrics(metrics)["micro_f1"],
            "attribution_f1": layers.get("attribution", {}).get("micro", {}).get("f1")}


def choose(strategy: str, model_dir: Path, candidates: list, k: int, rng: random.Random) -> list:
    if strategy == "random":
        return rng.sample(candidates, min(k, len(candidates)))
    from whosaid.inference.predictor import Predictor
    from whosaid.studio.uncertainty import predict_scored

    predictor = Predictor.from_pretrained(model_dir)
    bare = [type(d)(id=d.id, text=d.text) for d in candidates]
    scores = [s for _, s in predict_scored(predictor, bare)]
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i].id))
    return [candidates[i] for i in order[:k]]


def run(args) -> dict:
    from whosaid.readers.labelstudio_json import write_export
    from whosaid.schema import Schema
    from whosaid.studio.updating import evaluate_dir, load_recipe, run_update
    from whosaid.training.data import load_configured_source

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cfg, _ = load_recipe(args.recipe, args.overrides, init_from=args.seed_model, polnear=args.polnear)
    schema = Schema.from_label_config(cfg.data.label_config)
    pool = load_configured_source(source_section(args.pool), cfg, schema, args.polnear).documents
    pool = [d for d in pool if d.layers]
    if args.pool_limit and len(pool) > args.pool_limit:
        pool = random.Random(args.seed).sample(pool, args.pool_limit)
    pool.sort(key=lambda d: d.id)
    need = args.rounds * args.per_round
    if len(pool) < need:
        raise SystemExit(f"the pool has {len(pool)} annotated articles; {need} are needed")
    dev_docs = [d for s in cfg.data.dev for d in load_configured_source(s, cfg, schema, args.polnear).documents]
    t = time.monotonic()
    start = dev_scores(evaluate_dir(Path(args.seed_model), {"dev": dev_docs}, cfg.decoding.batch_size,
                                    cfg.decoding.constrained).get("dev"))
    results = {"seed_model": str(args.seed_model), "recipe": str(args.recipe), "overrides": args.overrides,
               "pool": args.pool, "pool_size": len(pool), "per_round": args.per_round, "rounds": args.rounds,
               "gate": not args.no_gate, "dev_documents": len(dev_docs), "start": start,
               "start_eval_s": round(time.monotonic() - t, 1), "strategies": {}}
    logging.info("seed model on dev: %s", start)
    for strategy in args.strategies:
        rng = random.Random(args.seed)
        model, labelled, rows = Path(args.seed_model), [], []
        for r in range(1, args.rounds + 1):
            t = time.monotonic()
            chosen_ids = {d.id for d in labelled}
            candidates = [d for d in pool if d.id not in chosen_ids]
            labelled += choose(strategy, model, candidates, args.per_round, rng)
            round_dir = workdir / strategy / f"round-{r}"
            export = write_export(labelled, workdir / strategy / f"annotations-round-{r}.json",
                                  overwrite=True, schema=schema)
            decision = run_update(model, export, round_dir, recipe=args.recipe, overrides=args.overrides,
                                  polnear=args.polnear, cache_dir=workdir / "cache",
                                  source={"simulation": strategy, "round": r})
            evaluation = json.loads((round_dir / "evaluation.json").read_text())
            candidate = dev_scores(evaluation["candidate"].get("dev"))
            continue_new = decision["accepted"] or args.no_gate
            served = candidate if continue_new else dev_scores(evaluation["base"].get("dev"))
            if continue_new:
                model = round_dir / "model"
            rows.append({"round": r, "annotated": len(labelled), "accepted": decision["accepted"],
                         "served": served, "candidate": candidate,
                         "heldout": decision["scores"].get("heldout"), "chosen": [d.id for d in labelled[-args.per_round:]],
                         "round_s": round(time.monotonic() - t, 1), "update_s": decision["timings_s"]})
            logging.info("%s round %d: %s", strategy, r, rows[-1]["served"])
            results["strategies"][strategy] = rows
            (workdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def _f(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def table(results: dict) -> str:
    strategies = list(results["strategies"])
    head = ["round", "annotated"] + [f"{s}: {m}" for s in strategies
                                     for m in ("attribution F1", "micro F1 (layers)", "kept")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    start = results["start"]
    lines.append("| 0 (seed model) | 0 | " + " | ".join(
        f"{_f(start['attribution_f1'])} | {_f(start['micro_f1'])} | –" for _ in strategies) + " |")
    for r in range(results["rounds"]):
        cells = []
        annotated = None
        for s in strategies:
            rows = results["strategies"][s]
            if r >= len(rows):
                cells.append("– | – | –")
                continue
            row = rows[r]
            annotated = row["annotated"]
            kept = "yes" if row["accepted"] else ("no (gate off)" if not results["gate"] else "no")
            cand = row["candidate"]
            cells.append(f"{_f(row['served']['attribution_f1'])} ({_f(cand['attribution_f1'])}) | "
                         f"{_f(row['served']['micro_f1'])} ({_f(cand['micro_f1'])}) | {kept}")
        lines.append(f"| {r + 1} | {annotated} | " + " | ".join(cells) + " |")
    note = (f"\nDev scores (strict span F1, {results['dev_documents']} dev articles) of the model the loop "
            "continues with; in brackets the round's candidate; `kept`: the update passed the "
            f"not-worse gate{' (off: --no-gate)' if not results['gate'] else ''}. Pool: {results['pool']} "
            f"({results['pool_size']} articles), {results['per_round']} articles per round.\n")
    return "\n".join(lines) + "\n" + note


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed-model", required=True, type=Path, help="the model the loop starts from")
    p.add_argument("--recipe", type=Path, default=REPO / "configs" / "update.yaml")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe value (repeatable)")
    p.add_argument("--pool", default="polnear:train",
                   help="articles to choose from, with gold annotations: polnear:SPLIT or a Label Studio export")
    p.add_argument("--pool-limit", type=int, default=None, help="a seeded random subset of the pool")
    p.add_argument("--polnear", default=None, help="PolNeAR root")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-round", type=int, default=20)
    p.add_argument("--strategies", nargs="+", choices=["uncertainty", "random"], default=["uncertainty", "random"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-gate", action="store_true", help="continue from every round's model, accepted or not")
    p.add_argument("--workdir", type=Path, default=REPO / "runs" / "active-learning")
    p.add_argument("--output", type=Path, default=None, help="markdown table file")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.workdir.exists() and any(args.workdir.glob("*/round-*")):
        print(f"{args.workdir} holds an earlier simulation; choose another --workdir", file=sys.stderr)
        return 2
    results = run(args)
    md = table(results)
    print(md)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
