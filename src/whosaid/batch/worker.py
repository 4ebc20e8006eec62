"""The Ray actor of a batch job: loads the model once, then predicts shard after shard.

A shard comes back as the UTF-8 JSONL bytes `whosaid predict --format jsonl` would write
for its articles (same `render`, same order) plus the articles that failed. The
shard is predicted in one `predict_documents` call, like predict.py's input; if
that raises, each article is predicted alone so that only the failing ones are
lost (their id and reason are returned).
"""

from __future__ import annotations

import os
import time
from pathlib import Path


class ShardWorker:
    """Wrapped with `ray.remote(...)` by the engine (which sets CPUs and restarts)."""

    def __init__(self, model_dir: str, predictor_options: dict, hooks: dict | None = None):
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # long articles are windowed: the length warning is noise
        hf_logging.disable_progress_bar()
        from whosaid.inference.predictor import Predictor

        started = time.perf_counter()
        self.predictor = Predictor.from_pretrained(model_dir, **predictor_options)
        self.load_s = time.perf_counter() - started
        # Test hooks (environment of the driver, see engine.TEST_HOOKS): `crash_once`, a
        # path: the first worker to reach the middle of a shard creates this marker file
        # and exits abruptly, as a killed process would; `delay`: seconds of sleep per
        # shard, so that a test can interrupt a job of a tiny model mid-way.
        hooks = hooks or {}
        self.crash_once = hooks.get("crash_once")
        self.delay = float(hooks.get("delay") or 0)

    def ready(self) -> dict:
        return {"pid": os.getpid(), "model_version": self.predictor.model_version, "load_s": self.load_s}

    def _maybe_crash(self) -> None:
        if self.crash_once:
            try:
                fd = os.open(self.crash_once, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, f"{os.getpid()}\n".encode())
            os.close(fd)
            os._exit(1)

    def process(self, index: int, docs: list) -> dict:
        from whosaid.records.output import render

        started = time.perf_counter()
        errors: list[dict] = []
        try:
            predicted = self.predictor.predict_documents(docs)
            if self.delay:
                time.sleep(self.delay)
            self._maybe_crash()
            jsonl = render(predicted, "jsonl").encode("utf-8")
        except Exception:
            lines = []
            for doc in docs:
                try:
                    lines.append(render(self.predictor.predict_documents([doc]), "jsonl").encode("utf-8"))
                except Exception as exc:
                    reason = _reason(doc, exc)
                    errors.append({"id": doc.id, "reason": reason[:2000], "source": doc.metadata.get("source")})
            jsonl = b"".join(lines)
        return {"index": index, "jsonl": jsonl, "errors": errors, "pid": os.getpid(),
                "seconds": time.perf_counter() - started}


def _reason(doc, exc: Exception) -> str:
    try:
        doc.text.encode("utf-8")
    except UnicodeEncodeError as bad:
        return f"bad text: not valid Unicode ({bad.reason} at character {bad.start})"
    return f"{type(exc).__name__}: {exc}"


def model_hash(model_dir: str | Path) -> str:
    """sha256 of the weights and config (the ONNX export's fingerprint)."""
    from whosaid.model.onnx import weights_fingerprint

    return weights_fingerprint(model_dir)
