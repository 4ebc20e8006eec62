"""The `whosaid` spaCy pipeline component.

    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("whosaid", config={"model": "runs/seed/model"})
    doc = nlp(text)
    doc.spans["attribution"]   # SPEAKER / CUE / CONTENT spans
    doc.spans["figure"]        # the figure layer's labels
    doc.spans["stance"]        # SUPPORT / OPPOSE / NEUTRAL
    doc._.attributions         # the attribution records (speaker, cue, contents, stance, figures)
    docs = list(nlp.pipe(texts, batch_size=32))

spaCy finds the factory through the `spacy_factories` entry point of the installed
package (pyproject.toml), so no import is needed; `import whosaid.integrations.spacy_component`
registers it too.

One span group per layer of the model's schema (`doc.spans[layer]`), each span labelled
with the schema's label, in offset order, one spaCy span per predicted span; the group's
`attrs["scores"]` holds each span's confidence (as spaCy's span categorizer does).
`doc._.attributions` is `Predictor.predict`'s `ArticleRecord.attributions` for the
doc's text (`AttributionRecord`s, character offsets into `doc.text`); it is stored in
`doc.user_data` as plain data, so `doc.to_bytes()` and `DocBin` keep it, and read back
as records on each access (a copy: edit `doc.user_data` to change it). None on a doc the
component has not processed.

Offsets. The model predicts on `doc.text` with its own sub-word tokenizer, so its
character offsets are exact; `doc.spans` can only hold whole spaCy tokens. A span whose
start and end fall on spaCy token boundaries is kept character-exact. A span that starts
or ends inside a spaCy token is **expanded** to the whole tokens it touches
(`doc.char_span(start, end, label=label, alignment_mode="expand")`): a predicted figure
"5" inside the spaCy token "5bn" becomes the span "5bn". The records in
`doc._.attributions` keep the model's exact offsets. A span that covers no token (only
whitespace) is left out of `doc.spans` (never the case for a trained model's spans).

Config: `model` (a saved model directory; default: the library's default model,
$WHOSAID_MODEL or the shipped one), `batch_size` (windows per forward
pass, the Predictor's; `nlp.pipe(batch_size=N)` is how many docs go to the Predictor
together), `backend` ("torch" or "onnx"), `threads` (torch / onnxruntime threads;
None: the library's default), `quantize` (int8 ONNX), `stride` (window overlap in
sub-tokens; None: the model's). Docs of one `nlp.pipe` batch are predicted in one
Predictor call, so `nlp.pipe(texts, batch_size=N)` gives the same spans as `nlp(text)`
one by one.

This module imports spaCy and nothing heavy: spaCy imports it whenever a pipeline is
created; torch and the model load when the component is added.
"""

import dataclasses
import logging
import types
import typing
from typing import Iterable, Iterator, List, Optional

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup
from spacy.util import minibatch

from whosaid.inference import DEFAULT_BATCH_SIZE

log = logging.getLogger(__name__)

FACTORY = "whosaid"
EXTENSION = "attributions"
_USER_DATA_KEY = "whosaid.attributions"


def _record_from_data(tp, value):
    """`value` (plain data from `dataclasses.asdict`) back as type `tp` (a record
    dataclass, `X | None`, `list[X]` or a plain type)."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _record_from_data(args[0], value) if len(args) == 1 else value
    if origin is list:
        (item,) = typing.get_args(tp) or (typing.Any,)
        return [_record_from_data(item, v) for v in value]
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _record_from_data(hints[f.name], value[f.name])
                     for f in dataclasses.fields(tp) if f.name in value})
    return value


def _get_attributions(doc: Doc):
    data = doc.user_data.get(_USER_DATA_KEY)
    if data is None:
        return None
    from whosaid.records.records import AttributionRecord

    return [_record_from_data(AttributionRecord, a) for a in data]


def _set_attributions(doc: Doc, records) -> None:
    doc.user_data[_USER_DATA_KEY] = None if records is None else [
        r if isinstance(r, dict) else dataclasses.asdict(r) for r in records]


if not Doc.has_extension(EXTENSION):
    Doc.set_extension(EXTENSION, getter=_get_attributions, setter=_set_attributions)


def resolve_model(model: Optional[str]) -> str:
    """The model directory the component loads: `model`, else the library's default
    model (`whosaid.files.default_model_dir`: $WHOSAID_MODEL or the shipped model)."""
    if model:
        return str(model)
    try:
        from whosaid.files import default_model_dir
    except ImportError:  # a library without a default model
        raise ValueError('the whosaid spaCy component needs a model directory: '
                         'nlp.add_pipe("whosaid", config={"model": "path/to/model"})') from None
    return str(default_model_dir())


def to_spacy_span(doc: Doc, start: int, end: int, label: str):
    """The spaCy span of the character range `start:end`: exact where token boundaries
    allow, else expanded to the tokens it touches; None when it covers no token."""
    span = doc.char_span(start, end, label=label, alignment_mode="expand")
    return span if span is not None and len(span) else None


class WhosaidComponent:
    """Runs a whosaid `Predictor` on docs; see the module docstring for what it sets."""

    def __init__(self, nlp: Language, name: str, predictor):
        self.name = name
        self.predictor = predictor

    def __call__(self, doc: Doc) -> Doc:
        self.annotate([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            self.annotate(docs)
            yield from docs

    def annotate(self, docs: List[Doc]) -> None:
        """Predict `docs` in one Predictor call and set their spans and attributions."""
        from whosaid.documents import Document
        from whosaid.records.records import article_record

        predicted = self.predictor.predict_documents(
            [Document(id=str(i), text=doc.text) for i, doc in enumerate(docs)])
        for doc, result in zip(docs, predicted):
            self.set_annotations(doc, result, article_record(result).attributions)

    def set_annotations(self, doc: Doc, predicted, attributions) -> None:
        for layer in self.predictor.schema.layer_names:
            spans, scores = [], []
            for s in predicted.spans_in(layer):
                span = to_spacy_span(doc, s.start, s.end, s.label)
                if span is None:
                    log.warning("whosaid: %s span %d-%d covers no spaCy token, left out of doc.spans",
                                layer, s.start, s.end)
                    continue
                spans.append(span)
                scores.append(None if s.score is None else float(s.score))
            doc.spans[layer] = SpanGroup(doc, name=layer, spans=spans, attrs={"scores": scores})
        doc._.set(EXTENSION, attributions)


@Language.factory(
    FACTORY,
    default_config={"model": None, "batch_size": DEFAULT_BATCH_SIZE, "backend": "torch", "threads": None,
                    "quantize": False, "stride": None},
    assigns=["doc.spans", f"doc._.{EXTENSION}"],
)
def make_whosaid(nlp: Language, name: str, model: Optional[str], batch_size: int, backend: str,
                 threads: Optional[int], quantize: bool, stride: Optional[int]) -> WhosaidComponent:
    """Load the model (`Predictor.from_pretrained`) and return the component."""
    from whosaid.inference.predictor import Predictor

    predictor = Predictor.from_pretrained(resolve_model(model), backend=backend, threads=threads,
                                          batch_size=batch_size, quantize=quantize, stride=stride)
    return WhosaidComponent(nlp, name, predictor)
