"""Encoding and decoding: windows never truncate, masks follow the codebook, and
encode -> decode reproduces gold spans up to sub-token boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from whosaid.documents import Document, Span
from whosaid.windows.decoding import decode_layer, merge_window_probs, repair_bio, viterbi
from whosaid.windows.encoding import IGNORE, EncodingSettings, encode_documents, tokenize_document, window_bounds


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from whosaid.model.modeling import default_encoder_path

    return AutoTokenizer.from_pretrained(default_encoder_path())


def snap(tok, span: Span) -> tuple:
    """A gold span expanded to the sub-tokens it overlaps."""
    covered = [(s, e) for s, e in tok.offsets if s < span.end and span.start < e]
    return (span.layer, span.label, covered[0][0], covered[-1][1])


def merge_snapped(snapped: list[tuple]) -> set:
    """Same-label gold spans that share a sub-token become one span at token level
    (e.g. a PolNeAR fragment cut mid-word by overlap resolution)."""
    out: list[tuple] = []
    for key in snapped:
        if out and out[-1][1] == key[1] and key[2] < out[-1][3]:
            out[-1] = (*out[-1][:3], max(out[-1][3], key[3]))
        else:
            out.append(key)
    return set(out)


def roundtrip(docs, schema, tokenizer, settings):
    """Encode with labels, turn label rows into one-hot window probabilities, decode."""
    toks, windows = encode_documents(docs, schema, tokenizer, settings)
    failures = []
    for d, tok in enumerate(toks):
        mine = [w for w in windows if w.doc_index == d]
        for li, layer in enumerate(schema.layer_names):
            if layer not in tok.doc.layers:
                assert all(x == IGNORE for w in mine for x in w.labels[li])
                continue
            n_tags = len(schema.bio_labels(layer))
            probs = []
            for w in mine:
                p = np.full((len(w.input_ids), n_tags), 1e-6, dtype=np.float32)
                row = w.labels[li]
                for i, t in enumerate(row):
                    # masked non-first sub-tokens carry no label: copy the previous one's I- tag
                    p[i, t if t != IGNORE else 0] = 1.0
                probs.append(p)
            merged = merge_window_probs(len(tok.input_ids), mine, probs)
            got = {s.key for s in decode_layer(tok, merged, schema, layer, settings)}
            want = merge_snapped(sorted(snap(tok, s) for s in tok.doc.spans_in(layer)))
            if got != want:
                failures.append((tok.doc.id, layer, sorted(want - got)[:3], sorted(got - want)[:3]))
    return failures, windows


def test_window_bounds_cover_everything_with_overlap():
    s = EncodingSettings(max_length=10, stride=3)
    bounds = window_bounds(30, s)
    assert bounds[0][0] == 0 and bounds[-1][1] == 30
    assert all(e - b <= 8 for b, e in bounds)
    for (b1, e1), (b2, e2) in zip(bounds, bounds[1:]):
        assert e1 - b2 == 3
    assert window_bounds(5, s) == [(0, 5)]
    assert window_bounds(0, s) == [(0, 0)]


def test_masks(schema, tokenizer):
    text = "Kiev says unbelievably many troops came."
    doc = Document("d", text, spans=(Span("attribution", "SPEAKER", 0, 4), Span("attribution", "CUE", 5, 9),
                                     Span("attribution", "CONTENT", 10, 39)),
                   layers=frozenset({"attribution"}))
    s = EncodingSettings(max_length=16, stride=2, label_all_subtokens=False)
    toks, windows = encode_documents([doc], schema, tokenizer, s)
    (w,) = windows
    att, fig, sta = w.labels
    assert att[0] == IGNORE and att[-1] == IGNORE              # specials
    assert all(x == IGNORE for x in fig) and all(x == IGNORE for x in sta)  # unannotated layers: unknown
    first = toks[0].first_subtoken
    assert any(not f for f in first)                            # "unbelievably" is split
    for i, f in enumerate(first):
        assert (att[i + 1] == IGNORE) == (not f)
    tags = schema.bio_labels("attribution")
    assert [tags[x] for x in att[1:4]] == ["B-SPEAKER", "B-CUE", "B-CONTENT"]
    s_all = EncodingSettings(max_length=16, stride=2, label_all_subtokens=True)
    (w_all,) = encode_documents([doc], schema, tokenizer, s_all)[1]
    assert all(x != IGNORE for x in w_all.labels[0][1:-1])


def test_viterbi_never_starts_inside_and_repairs(schema):
    tags = schema.bio_labels("attribution")
    i_cue, b_cue, o = tags.index("I-CUE"), tags.index("B-CUE"), tags.index("O")
    lp = np.log(np.full((3, len(tags)), 0.01))
    lp[0, i_cue] = 0.0          # an I- first: invalid
    lp[1, i_cue] = 0.0
    lp[2, o] = 0.0
    path = viterbi(lp, tags)
    assert tags[path[0]] != "I-CUE" and tags[path[1]] == "I-CUE"
    assert repair_bio([i_cue, i_cue, o], tags) == [b_cue, i_cue, o]


@pytest.mark.parametrize("all_sub", [True, False])
def test_seed_gold_roundtrip(schema, tokenizer, repo_root, all_sub):
    from whosaid.readers.labelstudio_json import read_export

    docs = read_export(repo_root / "data" / "seed-gold.json", schema)
    failures, windows = roundtrip(docs, schema, tokenizer, EncodingSettings(64, 16, all_sub))
    assert len(windows) > 5          # the article spans many windows and seams
    assert not failures, failures


def test_polnear_dev_roundtrip(schema, tokenizer, polnear_dir):
    from whosaid.readers.polnear import read_polnear

    docs = read_polnear(polnear_dir, "dev", schema)
    longest = max(docs, key=lambda d: len(d.text))
    assert len(tokenize_document(longest, tokenizer).input_ids) > 256 * 3
    failures, _ = roundtrip(docs, schema, tokenizer, EncodingSettings(256, 64, True))
    assert not failures, failures[:5]


def _best_valid_score(lp: np.ndarray, tags: list[str]) -> float:
    """Brute force: the best total log probability over all IOB2-valid paths."""
    import itertools

    best = -np.inf
    for path in itertools.product(range(len(tags)), repeat=len(lp)):
        names = [tags[t] for t in path]
        if all(not n.startswith("I-") or (i and names[i - 1] != "O" and names[i - 1][2:] == n[2:])
               for i, n in enumerate(names)):
            best = max(best, float(lp[np.arange(len(lp)), list(path)].sum()))
    return best


@pytest.mark.parametrize("layer", ["figure", "attribution"])
def test_viterbi_batch_is_exact(schema, layer):
    """Batched Viterbi (sequences of mixed lengths, several chunks, argmax shortcut)
    returns valid paths with the brute-force optimum score."""
    from whosaid.windows.decoding import allowed_transitions, viterbi_batch

    tags = schema.bio_labels(layer)
    allowed = allowed_transitions(tags)
    rng = np.random.default_rng(0)
    max_len = 6 if len(tags) <= 3 else 4
    seqs = [np.log(rng.dirichlet(np.full(len(tags), 0.3), size=n)) for n in
            [0, 1, 2, max_len, 3, max_len, 1, 2, max_len - 1] * 3]
    paths = viterbi_batch(seqs, tags, chunk=4)
    assert [len(p) for p in paths] == [len(s) for s in seqs]
    for lp, path in zip(seqs, paths):
        if not len(lp):
            continue
        assert not tags[path[0]].startswith("I-") and allowed[path[:-1], path[1:]].all()
        assert float(lp[np.arange(len(lp)), path].sum()) == pytest.approx(_best_valid_score(lp, tags))
        assert list(path) == viterbi(lp, tags)   # one sequence alone decodes the same


def test_decode_layer_batch_matches_single(schema, tokenizer):
    """Decoding documents together gives each the spans it gets alone."""
    from whosaid.windows.decoding import decode_layer_batch

    rng = np.random.default_rng(1)
    texts = ["Officials said on Tuesday that 40 percent of the funds were gone.", "",
             "Smith, the mayor, denied it. " * 30, "No one commented."]
    toks = [tokenize_document(Document(str(i), t), tokenizer) for i, t in enumerate(texts)]
    for layer in schema.layer_names:
        k = len(schema.bio_labels(layer))
        probs = [rng.dirichlet(np.full(k, 0.2), size=len(t.input_ids)).astype(np.float32) for t in toks]
        for all_sub in (True, False):
            s = EncodingSettings(64, 16, all_sub)
            together = decode_layer_batch(toks, probs, schema, layer, s)
            assert together == [decode_layer(t, p, schema, layer, s) for t, p in zip(toks, probs)]
            assert together[1] == []
            assert any(together)
