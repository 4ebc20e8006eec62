"""`Predictor`: the one decoding path, shared by evaluate.py, predict.py and the
dev evaluation during training, so a metric measures exactly what users get.

Whole articles are cut into overlapping windows (never truncated), windows of all
articles are sorted by length and batched, the backend returns per-layer tag
logits, window probabilities are merged per token and decoded into spans, then
spans into attributions and records.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from whosaid.documents import Document, Span
from whosaid.errors import ModelLoadError, WhosaidError
from whosaid.inference import DEFAULT_BATCH_SIZE
from whosaid.records.records import (ArticleRecord, article_record, assemble_attributions,
                                     resolve_document_speakers)
from whosaid.schema import ATTRIBUTION, STANCE, Schema
from whosaid.windows.decoding import decode_layer_batch, merge_window_probs
from whosaid.windows.encoding import EncodingSettings, Window, encode_documents, stance_scope_spans


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


class TorchBackend:
    """Runs the saved `WhosaidModel` with torch under `inference_mode`."""

    name = "torch"

    def __init__(self, model):
        self.model = model.eval()

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        # on the model's device (a GPU during training); no token types: windows are one segment
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(input_ids).to(device),
                             attention_mask=torch.from_numpy(attention_mask).to(device))
        return out.logits.float().cpu().numpy()


class Predictor:
    """Predict spans, attributions, stances and figures for raw texts or documents."""

    def __init__(self, backend, tokenizer, schema: Schema, settings: EncodingSettings,
                 batch_size: int = DEFAULT_BATCH_SIZE, constrained: bool = True, model_version: str | None = None):
        self.backend = backend
        self.tokenizer = tokenizer
        self.schema = schema
        self.settings = settings
        self.batch_size = batch_size
        self.constrained = constrained
        self.model_version = model_version
        self.resolve_speakers = True   # speaker_entity and the speakers table on every prediction
        sizes = [len(schema.bio_labels(l)) for l in schema.layer_names]
        bounds = np.cumsum([0] + sizes)
        self.layer_slices = {l: slice(int(bounds[i]), int(bounds[i + 1])) for i, l in enumerate(schema.layer_names)}

    @classmethod
    def from_pretrained(cls, model_dir: str | Path | None = None, *, backend: str = "torch",
                        threads: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE, quantize: bool = False,
                        constrained: bool = True, stride: int | None = None) -> "Predictor":
        """Load a saved model (default: the shipped `models/whosaid-news`, or $WHOSAID_MODEL).
        `stride` overrides the window overlap (in sub-tokens) used at inference; by default
        the model's training overlap. Less overlap means fewer sub-tokens to compute."""
        from transformers import AutoTokenizer

        from whosaid.files import default_model_dir
        from whosaid.model.modeling import load_config, load_model

        model_dir = default_model_dir() if model_dir is None else Path(model_dir)
        if threads:
            torch.set_num_threads(threads)
        if backend == "torch":
            model = load_model(model_dir)
            config = model.config
            runner = TorchBackend(model)
        elif backend == "onnx":
            from whosaid.model.onnx import OnnxBackend

            config = load_config(model_dir)
            runner = OnnxBackend.from_model_dir(model_dir, quantize=quantize, threads=threads)
        else:
            raise ModelLoadError(f"unknown backend {backend!r} (torch or onnx)")
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
        except Exception as exc:
            raise ModelLoadError(f"cannot load the tokenizer saved in {model_dir}: {exc}") from exc
        settings = config.encoding
        if stride is not None:
            try:
                settings = replace(settings, stride=stride)
            except WhosaidError as exc:
                raise ModelLoadError(f"stride {stride} does not fit the model's {settings.max_length}-token "
                                     f"windows: {exc}") from exc
        return cls(runner, tokenizer, config.whosaid_schema, settings, batch_size=batch_size,
                   constrained=constrained, model_version=model_dir.resolve().parent.name + "/" + model_dir.name)

    # ------------------------------------------------------------ core

    def window_logits(self, windows: Sequence[Window], progress: bool = False) -> list[np.ndarray]:
        """Logits per window ([positions, all tags]), batched by similar length."""
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        out: list[np.ndarray | None] = [None] * len(windows)
        pad = self.tokenizer.pad_token_id or 0
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="predict", unit="batch")
        for batch in batches:
            width = max(len(windows[i].input_ids) for i in batch)
            ids = np.full((len(batch), width), pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(windows[i].input_ids)
                ids[row, :n] = windows[i].input_ids
                mask[row, :n] = 1
            logits = self.backend(ids, mask)
            for row, i in enumerate(batch):
                out[i] = logits[row, :len(windows[i].input_ids)]
        return out  # type: ignore[return-value]

    def token_probs(self, docs: Sequence[Document], progress: bool = False):
        """(tokenized documents, {layer: [tag probabilities per sub-token, one array per
        document]}): the windows' softmax averaged onto each document's tokens, what the
        decoder reads (and what `whosaid.studio.uncertainty` scores); None for a
        document without tokens."""
        toks, windows = encode_documents(list(docs), self.schema, self.tokenizer, self.settings, with_labels=False)
        logits = self.window_logits(windows, progress=progress)
        per_doc: dict[int, list[int]] = {}
        for i, w in enumerate(windows):
            per_doc.setdefault(w.doc_index, []).append(i)
        probs = {layer: [merge_window_probs(len(toks[d].input_ids), [windows[i] for i in per_doc[d]],
                                            [_softmax(logits[i][:, sl]) for i in per_doc[d]])
                         if per_doc.get(d) else None for d in range(len(toks))]
                 for layer, sl in self.layer_slices.items()}
        return toks, probs

    def _stance_mass(self, layer_probs: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Per token, the probability of each stance label (its B- and I- tags summed)."""
        bio = self.schema.bio_labels(STANCE)
        labels = [t[2:] for t in bio if t.startswith("B-")]
        cols = [[i for i, t in enumerate(bio) if t[2:] == label and t != "O"] for label in labels]
        return labels, np.stack([layer_probs[:, c].sum(-1) for c in cols], axis=-1)

    def pool_stances(self, tok, layer_probs: np.ndarray | None, attributions, scope: str | None = None):
        """`attributions` with the stance pooled over their tokens: the mean per-label stance
        probability over the sub-tokens of the cue (`scope` "cue") or of the cue and contents
        ("attribution"), renormalised over the labels; its argmax is the stance and its value
        `stance_score`. The scope is the model's own unless given."""
        scope = scope or self.settings.stance_scope
        if layer_probs is None or not attributions:
            return tuple(attributions)
        labels, mass = self._stance_mass(layer_probs)
        starts = np.array([s for s, _ in tok.offsets], dtype=np.int64)
        ends = np.array([e for _, e in tok.offsets], dtype=np.int64)
        out = []
        for a in attributions:
            parts = stance_scope_spans(a) if scope == "attribution" else tuple(a.cues)
            idx = []
            for part in parts:
                lo = int(np.searchsorted(ends, part.start, side="right"))
                hi = int(np.searchsorted(starts, part.end, side="left"))
                idx.extend(range(lo, hi))
            if not idx:
                out.append(replace(a, stance=None, stance_score=None))
                continue
            p = mass[sorted(set(idx))].mean(0)
            p = p / p.sum() if p.sum() > 0 else np.full(len(labels), 1.0 / len(labels))
            best = int(p.argmax())
            out.append(replace(a, stance=labels[best], stance_score=float(p[best])))
        return tuple(out)

    def predict_stances(self, docs: Sequence[Document], scope: str | None = None) -> list[Document]:
        """`docs` with their own (e.g. gold) attributions and the stance the model gives each
        of them: stance judged independently of finding the attribution."""
        toks, probs = self.token_probs(docs)
        stance_probs = probs.get(STANCE, [None] * len(toks))
        return [replace(tok.doc, attributions=self.pool_stances(tok, p, tok.doc.attributions, scope))
                for tok, p in zip(toks, stance_probs)]

    def decode(self, toks, probs) -> list[Document]:
        """Documents with spans, attributions and resolved speakers from `token_probs`' output."""
        spans: list[list[Span]] = [[] for _ in toks]
        for layer, layer_probs in probs.items():
            decodable = [d for d in range(len(toks)) if layer_probs[d] is not None]
            decoded = decode_layer_batch([toks[d] for d in decodable], [layer_probs[d] for d in decodable],
                                         self.schema, layer, self.settings, self.constrained)
            for d, layer_spans in zip(decodable, decoded):
                spans[d] += layer_spans
        pooled = self.settings.stance_scope == "attribution" and STANCE in probs
        results = []
        for d, (tok, doc_spans) in enumerate(zip(toks, spans)):
            doc = tok.doc
            attributions = assemble_attributions(doc.text, doc_spans) if ATTRIBUTION in self.schema.layers else []
            if pooled:
                # the stance decided over the whole attribution, written back on its cue(s)
                attributions = self.pool_stances(tok, probs[STANCE][d], attributions)
                on_cue: dict[tuple[int, int], Span] = {}
                for a in attributions:
                    for c in a.cues if a.stance else ():
                        on_cue.setdefault((c.start, c.end), Span(STANCE, a.stance, c.start, c.end,
                                                                 score=a.stance_score))
                doc_spans = [s for s in doc_spans if s.layer != STANCE] + sorted(on_cue.values(),
                                                                                 key=lambda s: (s.start, s.end))
            predicted = replace(doc, spans=tuple(doc_spans), attributions=tuple(attributions),
                                layers=frozenset(self.schema.layer_names),
                                provenance={l: "predicted" for l in self.schema.layer_names},
                                metadata={**doc.metadata, "model_version": self.model_version}, speakers=())
            # who speaks: each speaker resolved to the article's entity (records.speakers)
            results.append(resolve_document_speakers(predicted) if self.resolve_speakers else predicted)
        return results

    def predict_documents(self, docs: Sequence[Document], progress: bool = False) -> list[Document]:
        """Documents carrying predicted spans (with scores) and assembled attributions."""
        return self.decode(*self.token_probs(docs, progress=progress))

    def predict(self, texts: Iterable[str | Document], progress: bool = False) -> list[ArticleRecord]:
        """Records for raw texts (ids "0", "1", ...) or documents."""
        docs = [t if isinstance(t, Document) else Document(id=str(i), text=t) for i, t in enumerate(texts)]
        return [article_record(d) for d in self.predict_documents(docs, progress=progress)]
