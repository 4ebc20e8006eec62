"""Model windows -> spans.

Per-layer tag probabilities of the windows are averaged back onto the document's
tokens, decoded with a BIO-constrained Viterbi pass (no I-X without a preceding
B-X/I-X), and turned into character spans.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from whosaid.documents import Span
from whosaid.schema import Schema
from whosaid.windows.encoding import EncodingSettings, TokenizedDocument, Window


def merge_window_probs(n_tokens: int, windows: list[Window], probs: list[np.ndarray]) -> np.ndarray:
    """Average per-window tag probabilities ([positions, tags], specials included)
    onto the document's tokens; every token is covered by at least one window."""
    n_tags = probs[0].shape[-1]
    total = np.zeros((n_tokens, n_tags), dtype=np.float32)
    count = np.zeros((n_tokens, 1), dtype=np.float32)
    for w, p in zip(windows, probs):
        total[w.start:w.end] += p[w.content_start:w.content_start + w.end - w.start]
        count[w.start:w.end] += 1
    return total / np.maximum(count, 1)


def allowed_transitions(tags: list[str]) -> np.ndarray:
    """allowed[i, j]: may tag j follow tag i under IOB2."""
    n = len(tags)
    allowed = np.ones((n, n), dtype=bool)
    for j, t in enumerate(tags):
        if t.startswith("I-"):
            for i, prev in enumerate(tags):
                allowed[i, j] = prev[2:] == t[2:] and prev != "O"
    return allowed


def viterbi(log_probs: np.ndarray, tags: list[str]) -> list[int]:
    """Best IOB2-valid tag path (I-X only after B-X or I-X, never first)."""
    return [int(t) for t in viterbi_batch([log_probs], tags)[0]]


def viterbi_batch(log_probs: Sequence[np.ndarray], tags: list[str], chunk: int = 64) -> list[np.ndarray]:
    """`viterbi` for many sequences at once (the same paths, far less Python).

    A sequence whose per-token argmax already is a valid IOB2 path keeps it: the
    unconstrained optimum satisfies the constraints, so it is the constrained one.
    The others run one Viterbi recursion vectorised across sequences (sorted by
    length, `chunk` at a time), so the Python loop runs once per position of the
    longest sequence instead of once per position of every sequence."""
    allowed = allowed_transitions(tags)
    start_ok = np.array([not t.startswith("I-") for t in tags])
    paths: list[np.ndarray | None] = [None] * len(log_probs)
    todo = []
    for i, lp in enumerate(log_probs):
        greedy = lp.argmax(-1) if len(lp) else np.zeros(0, dtype=np.int64)
        if not len(lp) or (start_ok[greedy[0]] and allowed[greedy[:-1], greedy[1:]].all()):
            paths[i] = greedy
        else:
            todo.append(i)
    todo.sort(key=lambda i: -len(log_probs[i]))
    for c in range(0, len(todo), chunk):
        group = todo[c:c + chunk]
        for i, path in zip(group, _viterbi_sorted([log_probs[i] for i in group], allowed, start_ok)):
            paths[i] = path
    return paths  # type: ignore[return-value]


def _viterbi_sorted(seqs: list[np.ndarray], allowed: np.ndarray, start_ok: np.ndarray) -> list[np.ndarray]:
    """Viterbi over sequences sorted by decreasing length (all non-empty)."""
    lengths = np.array([len(x) for x in seqs])
    n_seq, n_pos, k = len(seqs), int(lengths[0]), allowed.shape[0]
    lp = np.zeros((n_pos, n_seq, k), dtype=np.float64)
    for j, x in enumerate(seqs):
        lp[:len(x), j] = x
    # active[t]: how many sequences are longer than t (a prefix, lengths are sorted)
    active = n_seq - np.searchsorted(lengths[::-1], np.arange(n_pos + 1), side="right")
    trans = np.where(allowed, 0.0, -np.inf)
    score = np.where(start_ok, 0.0, -np.inf) + lp[0]
    back = np.zeros((n_pos, n_seq, k), dtype=np.int16)
    for t in range(1, n_pos):
        n = active[t]
        cand = score[:n, :, None] + trans          # [sequence, previous tag, tag]
        back[t, :n] = cand.argmax(1)
        score[:n] = cand.max(1) + lp[t, :n]
    last = score.argmax(1)
    out = np.zeros((n_seq, n_pos), dtype=np.int64)
    cur = np.zeros(n_seq, dtype=np.int64)
    for t in range(n_pos - 1, -1, -1):
        n_cont, n_here = active[t + 1], active[t]   # sequences continuing past t / reaching t
        if n_cont:
            cur[:n_cont] = back[t + 1, np.arange(n_cont), cur[:n_cont]]
        cur[n_cont:n_here] = last[n_cont:n_here]
        out[:n_here, t] = cur[:n_here]
    return [out[j, :lengths[j]] for j in range(n_seq)]


def repair_bio(tag_ids: list[int], tags: list[str]) -> list[int]:
    """Greedy repair of an argmax path: an I-X that cannot continue becomes B-X."""
    out = list(tag_ids)
    for i, t in enumerate(out):
        name = tags[t]
        if name.startswith("I-"):
            prev = tags[out[i - 1]] if i else "O"
            if prev == "O" or prev[2:] != name[2:]:
                out[i] = tags.index("B-" + name[2:])
    return out


def decode_layer(tok: TokenizedDocument, probs: np.ndarray, schema: Schema, layer: str,
                 settings: EncodingSettings, constrained: bool = True) -> list[Span]:
    """Token-level tag probabilities of one layer -> character spans with scores."""
    return decode_layer_batch([tok], [probs], schema, layer, settings, constrained)[0]


def decode_layer_batch(toks: Sequence[TokenizedDocument], probs: Sequence[np.ndarray], schema: Schema, layer: str,
                       settings: EncodingSettings, constrained: bool = True) -> list[list[Span]]:
    """`decode_layer` for many documents (one batched Viterbi pass).

    With first-sub-token labels, decoding runs over words (their first sub-token's
    probabilities) and a span covers whole words."""
    tags = schema.bio_labels(layer)
    units = [_units(tok, settings) for tok in toks]
    unit_probs = [p[u[:, 0]] if len(u) else p[:0] for p, u in zip(probs, units)]
    if constrained:
        paths = viterbi_batch([np.log(np.clip(p, 1e-9, 1.0)) for p in unit_probs], tags)
    else:
        paths = [np.array(repair_bio([int(x) for x in p.argmax(-1)], tags), dtype=np.int64) for p in unit_probs]
    return [_path_spans(tok, u, p, path, tags, layer) for tok, u, p, path in zip(toks, units, unit_probs, paths)]


def _units(tok: TokenizedDocument, settings: EncodingSettings) -> np.ndarray:
    """[first, last] sub-token of each decoding unit: every sub-token, or every word."""
    n = len(tok.offsets)
    if settings.label_all_subtokens or not n:
        return np.repeat(np.arange(n)[:, None], 2, axis=1)
    words = np.asarray(tok.word_ids)
    starts = np.flatnonzero(np.r_[True, words[1:] != words[:-1]])
    return np.stack([starts, np.r_[starts[1:] - 1, n - 1]], axis=1)


def _path_spans(tok: TokenizedDocument, units: np.ndarray, unit_probs: np.ndarray, path: np.ndarray,
                tags: list[str], layer: str) -> list[Span]:
    """Spans of a valid IOB2 path; a span's score is the mean probability of its tags."""
    if not len(path):
        return []
    chosen = unit_probs[np.arange(len(path)), path]
    begins = {i for i, t in enumerate(tags) if t.startswith("B-")}
    in_span = np.array([t != "O" for t in tags])
    spans: list[Span] = []
    cur = None  # [label, first unit, last unit]
    for u in np.flatnonzero(in_span[path]):
        t = int(path[u])
        if t in begins or cur is None or cur[2] != u - 1:
            if cur:
                spans.append(_unit_span(tok, units, layer, cur, chosen))
            cur = [tags[t][2:], u, u]
        else:
            cur[2] = u
    if cur:
        spans.append(_unit_span(tok, units, layer, cur, chosen))
    return spans


def _unit_span(tok: TokenizedDocument, units: np.ndarray, layer: str, cur, chosen: np.ndarray) -> Span:
    label, first, last = cur
    start = tok.offsets[units[first][0]][0]
    end = tok.offsets[units[last][1]][1]
    # SentencePiece tokenizers (DeBERTa-v2, XLM-R) count the space before a word into its
    # token: a span never starts or ends with whitespace.
    text = tok.doc.text
    trimmed_start, trimmed_end = start, end
    while trimmed_start < trimmed_end and text[trimmed_start].isspace():
        trimmed_start += 1
    while trimmed_end > trimmed_start and text[trimmed_end - 1].isspace():
        trimmed_end -= 1
    if trimmed_start < trimmed_end:
        start, end = trimmed_start, trimmed_end
    return Span(layer, label, start, end, score=float(chosen[first:last + 1].mean()))
