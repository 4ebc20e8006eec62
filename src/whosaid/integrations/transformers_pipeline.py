"""`pipeline("attribution-extraction", model=DIR)`: a transformers pipeline that
returns whosaid's records.

    import whosaid
    from transformers import pipeline

    extract = pipeline("attribution-extraction", model="runs/seed/model", device="cpu")
    record = extract("Kiev says Russia has amassed troops.")      # one ArticleRecord
    records = extract(["first article ...", "second ..."], batch_size=8)

transformers loads the model (`AutoModel`: registered by `whosaid.model.modeling`) and
its tokenizer; the pipeline hands both to a `whosaid.inference.predictor.Predictor`, so
the records are exactly `Predictor.from_pretrained(DIR).predict(texts)`'s: whole
articles in overlapping windows, ids "0", "1", ... by position, the same decoding and
attribution assembly. `batch_size` is the Predictor's: windows per forward pass
(default `whosaid.inference.DEFAULT_BATCH_SIZE`), given to `pipeline(...)` or per call.
A list of texts goes to the Predictor in one call (windows of all articles batched
together); the pipeline's DataLoader machinery is not used.

The task is registered in `transformers.pipelines.PIPELINE_REGISTRY` when this module
is imported, which `import whosaid` arranges as soon as transformers' pipelines are
imported (`whosaid.integrations.transformers_auto`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from transformers import AutoModel
from transformers.pipelines import PIPELINE_REGISTRY
from transformers.pipelines.base import Pipeline

from whosaid.inference import DEFAULT_BATCH_SIZE

TASK = "attribution-extraction"


class ModelBackend:
    """A Predictor backend over an already loaded `WhosaidModel`, on whatever device the
    pipeline placed it (inputs go there, logits come back to the CPU)."""

    name = "torch"

    def __init__(self, model):
        self.model = model.eval()

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        device = self.model.device
        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(input_ids).to(device),
                             attention_mask=torch.from_numpy(attention_mask).to(device))
        return out.logits.float().cpu().numpy()


def model_version(name_or_path: str | Path) -> str:
    """The `model_version` `Predictor.from_pretrained` gives a model directory ("run/model")."""
    path = Path(name_or_path)
    return path.resolve().parent.name + "/" + path.name


class AttributionExtractionPipeline(Pipeline):
    """Texts (or `whosaid.documents.Document`s) -> `whosaid.records.records.ArticleRecord`s.

    A single text gives one record, a list gives a list of records (ids by position).
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from whosaid.inference.predictor import Predictor

        config = self.model.config
        if getattr(config, "model_type", None) != "whosaid":
            raise ValueError(f"{TASK} needs a whosaid model, got model type {config.model_type!r}")
        self.predictor = Predictor(ModelBackend(self.model), self.tokenizer, config.whosaid_schema,
                                   config.encoding, batch_size=self._batch_size or DEFAULT_BATCH_SIZE,
                                   model_version=model_version(config.name_or_path or "model"))

    def _sanitize_parameters(self, **kwargs):
        return {}, {}, {}

    # The three steps for one input (Pipeline's contract); __call__ batches lists itself.
    def preprocess(self, inputs, **_):
        from whosaid.documents import Document

        return inputs if isinstance(inputs, Document) else Document(id="0", text=inputs)

    def _forward(self, document, **_):
        return self.predictor.predict_documents([document])[0]

    def postprocess(self, predicted, **_):
        from whosaid.records.records import article_record

        return article_record(predicted)

    def __call__(self, inputs: Any, *args, batch_size: int | None = None, progress: bool = False, **kwargs):
        """Records for `inputs`: one text or document -> one record; a list -> a list."""
        if args or kwargs:
            raise TypeError(f"{TASK} takes texts and batch_size/progress only, got "
                            f"{list(kwargs) or len(args)} more")
        single = isinstance(inputs, str) or not hasattr(inputs, "__iter__")
        texts = [inputs] if single else list(inputs)
        default = self.predictor.batch_size
        if batch_size:
            self.predictor.batch_size = batch_size
        try:
            records = self.predictor.predict(texts, progress=progress)
        finally:
            self.predictor.batch_size = default
        return records[0] if single else records


def register() -> None:
    """Add the task to transformers' pipeline registry (idempotent)."""
    if PIPELINE_REGISTRY.supported_tasks.get(TASK, {}).get("impl") is not AttributionExtractionPipeline:
        PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=AttributionExtractionPipeline,
                                            pt_model=AutoModel, type="text")


register()
