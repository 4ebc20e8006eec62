"""Documents -> model windows.

A document is tokenized once (fast tokenizer, character offsets), then cut into
windows of at most `max_length` sub-tokens (special tokens included) that overlap
by `stride` tokens, so no article is ever truncated. Each window carries one IOB2
label row per layer; -100 marks special tokens, non-first sub-tokens (unless
`label_all_subtokens`) and every token of a layer the document does not annotate.
`EncodingSettings` is the one place where window length and stride are checked.

The way back (window probabilities -> spans) is `whosaid.windows.decoding`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from whosaid.documents import Document, Span
from whosaid.errors import WhosaidError
from whosaid.schema import STANCE, Schema

IGNORE = -100
STANCE_SCOPES = ("cue", "attribution")


@dataclass(frozen=True)
class EncodingSettings:
    max_length: int = 256
    stride: int = 64
    label_all_subtokens: bool = True
    #: Which tokens carry an attribution's stance: "cue" (the stance span sits on the cue,
    #: as in the annotations) or "attribution" (training spreads the label over the cue and
    #: the contents, and the stance of an attribution is pooled over those tokens, so it is
    #: decided from what is said, not from the cue word alone).
    stance_scope: str = "cue"

    def __post_init__(self):
        if self.max_length < 8:
            raise WhosaidError(f"max_length must be at least 8, got {self.max_length}")
        if not 0 <= self.stride < self.max_length - 2:
            raise WhosaidError(f"stride must be in [0, max_length - 2), got {self.stride}")
        if self.stance_scope not in STANCE_SCOPES:
            raise WhosaidError(f"stance_scope must be one of {STANCE_SCOPES}, got {self.stance_scope!r}")


@dataclass
class TokenizedDocument:
    """A document's sub-tokens: ids, character offsets and word ids (no specials)."""

    doc: Document
    input_ids: list[int]
    offsets: list[tuple[int, int]]
    word_ids: list[int]

    @property
    def first_subtoken(self) -> list[bool]:
        return [i == 0 or self.word_ids[i] != self.word_ids[i - 1] for i in range(len(self.word_ids))]


@dataclass
class Window:
    """One model input: tokens [start, end) of a document, with specials added."""

    doc_index: int
    start: int
    end: int
    input_ids: list[int]
    labels: list[list[int]] | None = None  # [layer][position], positions include specials
    #: Position of token `start` in `input_ids` (the number of special tokens before it).
    content_start: int = 1


def tokenize_document(doc: Document, tokenizer) -> TokenizedDocument:
    # verbose=False: whole articles are longer than the model maximum on purpose (windows follow)
    enc = tokenizer(doc.text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    word_ids = enc.word_ids()
    # Tokens without a word id (none for BERT-like tokenizers) each form their own word.
    fixed, last = [], -1
    for w in word_ids:
        last = last + 1 if w is None else w
        fixed.append(last)
    return TokenizedDocument(doc, list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]], fixed)


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The special-token ids the tokenizer puts before and after one sequence
    ([CLS] / [SEP] for BERT, <s> / </s> for RoBERTa, none for some), found by
    tokenizing a probe text with and without them (the same on every tokenizer class
    and transformers version)."""
    probe = "hello world"
    plain = list(tokenizer(probe, add_special_tokens=False, verbose=False)["input_ids"])
    full = list(tokenizer(probe, add_special_tokens=True, truncation=False, padding=False,
                          verbose=False)["input_ids"])
    for i in range(len(full) - len(plain) + 1):
        if full[i:i + len(plain)] == plain:
            return full[:i], full[i + len(plain):]
    raise WhosaidError(f"cannot find where {type(tokenizer).__name__} puts its special tokens")


def window_bounds(n_tokens: int, settings: EncodingSettings, n_special: int = 2) -> list[tuple[int, int]]:
    """Token ranges covering [0, n_tokens) with `stride` tokens of overlap; a window
    holds `max_length - n_special` document tokens (room for the special tokens)."""
    size = settings.max_length - n_special
    if size <= settings.stride:
        raise WhosaidError(f"windows of {settings.max_length} tokens with {n_special} special tokens "
                           f"leave no room for a stride of {settings.stride}")
    if n_tokens <= size:
        return [(0, n_tokens)]
    step = size - settings.stride
    bounds, start = [], 0
    while True:
        end = min(start + size, n_tokens)
        bounds.append((start, end))
        if end == n_tokens:
            return bounds
        start += step


def token_tags(tok: TokenizedDocument, schema: Schema, layer: str) -> list[str]:
    """IOB2 tag of every sub-token for one layer (a token belongs to the span it overlaps)."""
    tags = ["O"] * len(tok.offsets)
    spans = tok.doc.spans_in(layer)
    j = 0
    for i, (s, e) in enumerate(tok.offsets):
        while j < len(spans) and spans[j].end <= s:
            j += 1
        if j < len(spans) and spans[j].start < e and s < spans[j].end:
            span = spans[j]
            inside = i > 0 and tags[i - 1] != "O" and tags[i - 1][2:] == span.label \
                and tok.offsets[i - 1][1] > span.start
            tags[i] = ("I-" if inside else "B-") + span.label
    return tags


def stance_scope_spans(attribution) -> tuple[Span, ...]:
    """The regions whose tokens carry an attribution's stance with `stance_scope: attribution`:
    its cue(s) and content(s)."""
    return tuple(attribution.cues) + tuple(attribution.contents)


def attribution_stance_spans(doc: Document) -> list[Span]:
    """Stance-layer training spans for `stance_scope: attribution`: each attribution's
    stance label on its cue and content regions. A region shared with an earlier
    attribution (a nested content segment) keeps the first label, so spans never overlap."""
    out: list[Span] = []
    taken: list[tuple[int, int]] = []
    for a in doc.attributions:
        if a.stance is None:
            continue
        for part in sorted(stance_scope_spans(a), key=lambda s: s.start):
            if any(part.start < e and s < part.end for s, e in taken):
                continue
            taken.append((part.start, part.end))
            out.append(Span(STANCE, a.stance, part.start, part.end))
    return out


def encode_document(tok: TokenizedDocument, doc_index: int, schema: Schema, tokenizer,
                    settings: EncodingSettings, with_labels: bool = True) -> list[Window]:
    """Cut a tokenized document into labelled windows."""
    if with_labels and settings.stance_scope == "attribution" and STANCE in tok.doc.layers:
        doc = tok.doc
        spans = tuple(s for s in doc.spans if s.layer != STANCE) + tuple(attribution_stance_spans(doc))
        tok = replace(tok, doc=replace(doc, spans=spans))
    prefix, suffix = special_tokens(tokenizer)
    first = tok.first_subtoken
    rows = None
    if with_labels:
        rows = []
        for layer in schema.layer_names:
            if layer not in tok.doc.layers:
                rows.append([IGNORE] * len(tok.offsets))
                continue
            l2i = schema.label2id(layer)
            ids = [l2i[t] for t in token_tags(tok, schema, layer)]
            if not settings.label_all_subtokens:
                ids = [x if f else IGNORE for x, f in zip(ids, first)]
            rows.append(ids)
    windows = []
    for start, end in window_bounds(len(tok.input_ids), settings, len(prefix) + len(suffix)):
        ids = prefix + tok.input_ids[start:end] + suffix
        labels = None
        if rows is not None:
            labels = [[IGNORE] * len(prefix) + r[start:end] + [IGNORE] * len(suffix) for r in rows]
        windows.append(Window(doc_index, start, end, ids, labels, content_start=len(prefix)))
    return windows


def encode_documents(docs: list[Document], schema: Schema, tokenizer, settings: EncodingSettings,
                     with_labels: bool = True) -> tuple[list[TokenizedDocument], list[Window]]:
    toks = [tokenize_document(d, tokenizer) for d in docs]
    windows = []
    for i, tok in enumerate(toks):
        windows += encode_document(tok, i, schema, tokenizer, settings, with_labels)
    return toks, windows
