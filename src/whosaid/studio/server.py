"""`whosaid serve`: a whosaid model as a Label Studio ML backend.

Label Studio (1.23) talks to a model server over a small JSON API; this module
implements the part it calls, on Starlette (run by uvicorn):

* `GET /health` (and `GET /`): `{"status": "UP", "model_version": ..., "training": ...}`.
  Label Studio allows it one second.
* `POST /setup` `{"project": "ID.TIMESTAMP", "schema": LABEL_CONFIG_XML, "hostname", "access_token", ...}`
  -> `{"model_version": ...}`. A project whose labeling config lacks a layer or label
  the model predicts is refused (HTTP 422), so Label Studio will not connect it.
  Label Studio calls it before every prediction round; the version it returns is
  the version of the predictions that follow.
* `POST /predict` `{"tasks": [{"id", "data": {"text": ...}}, ...], "label_config", "project", "params"}`
  -> `{"results": [{"result": [...], "score": U, "model_version": V}, ...], "model_version": V}`,
  one result per task in order: every layer's regions (with their confidence as
  region `score`), the attribution relations, and `score` = the article's uncertainty
  (`whosaid.studio.uncertainty`: higher = more informative; sort by prediction score,
  descending, to annotate the most useful tasks first).
* `POST /webhook` `{"action": "START_TRAINING", "project": {"id": ...}}` starts an
  update in the background (201 `{"status": "started", "job": ...}`; 200 `"busy"` while
  one runs); other events (Label Studio sends all project events to this URL) are
  acknowledged and ignored. `POST /train` (Label Studio's older training call, with the
  annotated tasks in the request) starts the same update from those tasks.
* `POST /job_status`, `GET /versions`, `GET /metrics`: the training job, the versions
  served from this workdir, an empty metrics object.

An update (`whosaid studio train`, `whosaid.studio.updating`) runs in a child
process: it exports the project's annotations, continues training from the served
model plus a replay sample of the original data, evaluates, and decides. `/predict`
keeps answering with the current version meanwhile; an accepted version replaces it
atomically (requests already running finish on the old one) and is recorded in
`WORKDIR/current.json`, so a restart of `whosaid serve --model` with the same model
and workdir serves the latest accepted version.

Security: the server listens on 127.0.0.1 unless told otherwise; with a shared
secret (`--token` or $WHOSAID_SERVE_TOKEN) every request must carry it, as
`Authorization: Bearer SECRET` or as the password of HTTP basic auth (Label Studio's
"Basic Authentication" option of a model connection; any user name). Bad requests get
a 4xx JSON `{"error": ...}`; an internal failure a 500 `{"error": ...}` with the
details in the server log only, never a traceback in a response.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from whosaid.errors import AnnotationError, WhosaidError

log = logging.getLogger("whosaid.studio.server")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 9090
SECRET_ENV = "WHOSAID_SERVE_TOKEN"
MAX_BODY_BYTES = 32 * 2 ** 20
MAX_TASKS = 256
CURRENT_FILE = "current.json"
MODEL_CLASS = "whosaid"


class RequestError(Exception):
    """A request the server refuses: HTTP `status` with `{"error": message}`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ServedModel:
    version: str
    model_dir: Path
    predictor: Any


@dataclass
class TrainingJob:
    """One update in the background. `state`: running, accepted, rejected or failed."""

    id: str
    run_dir: Path
    base: ServedModel
    project: int | None = None
    annotations: Path | None = None
    state: str = "running"
    message: str = ""
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def public(self) -> dict:
        return {"job": self.id, "state": self.state, "project": self.project, "base_version": self.base.version,
                "run_dir": str(self.run_dir), "message": self.message, "started_at": self.started_at,
                "finished_at": self.finished_at}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------------ helpers


def parse_project_id(value: Any) -> int | None:
    """Label Studio's project reference: "12.1700000000" (id.created), 12, or {"id": 12, ...}."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)(?:\.\d+)?\s*", value)
        return int(m.group(1)) if m else None
    return None


def text_key(label_config: str | None, to_name: str) -> str:
    """The task data key the text comes from: `value="$KEY"` of the object tag named
    `to_name` in the labeling config (default "text")."""
    if label_config:
        try:
            root = ET.fromstring(label_config)
        except ET.ParseError:
            return "text"
        for el in root.iter():
            if el.get("name") == to_name and (el.get("value") or "").startswith("$"):
                return el.get("value")[1:]
    return "text"


def authorized(header: str | None, secret: str) -> bool:
    """`Bearer SECRET` / `Token SECRET`, or basic auth whose password is SECRET."""
    if not header:
        return False
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("bearer", "token"):
        return hmac.compare_digest(value.encode(), secret.encode())
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        _, sep, password = decoded.partition(":")
        return bool(sep) and hmac.compare_digest(password.encode(), secret.encode())
    return False


def default_version(model_dir: Path) -> str:
    """The name `Predictor.from_pretrained` gives a model: PARENT/NAME of its directory."""
    model_dir = Path(model_dir).resolve()
    return f"{model_dir.parent.name}/{model_dir.name}"


def load_predictor(model_dir: Path, version: str, *, batch_size: int | None = None,
                   threads: int | None = None):
    from whosaid.inference import DEFAULT_BATCH_SIZE
    from whosaid.inference.predictor import Predictor

    predictor = Predictor.from_pretrained(model_dir, batch_size=batch_size or DEFAULT_BATCH_SIZE, threads=threads)
    predictor.model_version = version
    return predictor


# ------------------------------------------------------------------------ the service


class ModelService:
    """The model, its version, predictions and background updates; no HTTP here."""

    def __init__(self, model_dir: str | Path, *, workdir: str | Path, model_version: str | None = None,
                 recipe: str | Path | None = None, overrides: list[str] | None = None,
                 polnear: str | None = None, label_studio_url: str | None = None,
                 label_studio_token: str | None = None,
                 loader: Callable[[Path, str], Any] | None = None,
                 runner: Callable[[TrainingJob, "ModelService"], dict] | None = None):
        from whosaid.studio.updating import DEFAULT_RECIPE

        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.origin = Path(model_dir).resolve()
        self.recipe = Path(recipe) if recipe is not None else DEFAULT_RECIPE
        self.overrides = list(overrides or [])
        self.polnear = polnear
        self.label_studio_url = label_studio_url
        self._label_studio_token = label_studio_token
        self._from_setup: dict[int, tuple[str, str]] = {}  # project -> (hostname, access token), memory only
        self.loader = loader or load_predictor
        self.runner = runner or subprocess_runner
        self._lock = threading.Lock()
        self._predict_lock = threading.Lock()  # one forward pass at a time: 2 cores do not gain from more
        self._schemas: dict[int, str | None] = {}
        self.job: TrainingJob | None = None
        self.history: list[dict] = []
        version, served_dir = self._resume(model_version)
        self.current = ServedModel(version, served_dir, self.loader(served_dir, version))
        self.history.append({"version": version, "model_dir": str(served_dir), "served_at": _now()})

    # -------------------------------------------------------------- versions

    def _resume(self, model_version: str | None) -> tuple[str, Path]:
        """The latest accepted update of this model in this workdir, else the model itself."""
        path = self.workdir / CURRENT_FILE
        if path.is_file():
            try:
                current = json.loads(path.read_text(encoding="utf-8"))
                if current.get("origin") == str(self.origin) and (Path(current["model_dir"]) / "config.json").is_file():
                    log.info("resuming version %s (%s) from %s", current["version"], current["model_dir"], path)
                    return current["version"], Path(current["model_dir"])
            except (ValueError, KeyError, TypeError, OSError) as exc:
                log.warning("ignoring unreadable %s: %s", path, exc)
        return model_version or default_version(self.origin), self.origin

    def swap(self, version: str, model_dir: Path) -> ServedModel:
        """Load a new version and serve it; requests already running finish on the old one."""
        from whosaid.files import write_json_atomic

        served = ServedModel(version, Path(model_dir), self.loader(Path(model_dir), version))
        with self._lock:
            self.current = served
            self.history.append({"version": version, "model_dir": str(model_dir), "served_at": _now()})
        write_json_atomic(self.workdir / CURRENT_FILE, {"version": version, "model_dir": str(Path(model_dir).resolve()),
                                                       "origin": str(self.origin), "served_at": _now()})
        log.info("now serving %s from %s", version, model_dir)
        return served

    # -------------------------------------------------------------- label configs

    def check_label_config(self, xml: Any, served: ServedModel) -> None:
        """Refuse (422) a labeling config that cannot hold every layer and label of the model."""
        from whosaid.schema import Schema

        if not isinstance(xml, str) or not xml.strip():
            raise RequestError(400, "the labeling config must be a non-empty XML string")
        key = hash((xml, served.version))
        if key in self._schemas:
            problem = self._schemas[key]
        else:
            needed = served.predictor.schema
            try:
                have = Schema.from_label_config(xml=xml)
                missing = needed.missing_from(have)
                if have.to_name != needed.to_name:
                    missing.append(f"text field {needed.to_name!r} (the project labels {have.to_name!r})")
                problem = (f"the project's labeling config lacks {', '.join(missing)}, which model "
                           f"{served.version} predicts") if missing else None
            except AnnotationError as exc:
                problem = f"labeling config unusable: {exc.reason}"
            if len(self._schemas) > 64:
                self._schemas.clear()
            self._schemas[key] = problem
        if problem:
            raise RequestError(422, problem)

    # -------------------------------------------------------------- API

    def health(self) -> dict:
        from whosaid.studio.uncertainty import MEASURE

        served, job = self.current, self.job
        return {"status": "UP", "model_class": MODEL_CLASS, "model_version": served.version,
                "model_dir": str(served.model_dir), "training": job.public() if job else None,
                "score": f"uncertainty: {MEASURE}"}

    def setup(self, body: dict) -> dict:
        served = self.current
        if body.get("schema") is not None:
            self.check_label_config(body["schema"], served)
        project = parse_project_id(body.get("project"))
        host, token = body.get("hostname"), body.get("access_token")
        if project is not None and isinstance(host, str) and isinstance(token, str) and host and token:
            self._from_setup[project] = (host.rstrip("/"), token)
        return {"model_version": served.version}

    def predict(self, body: dict) -> dict:
        from whosaid.documents import Document
        from whosaid.readers.labelstudio_json import to_tasks
        from whosaid.studio.uncertainty import predict_scored

        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise RequestError(400, "'tasks' must be a list of Label Studio tasks")
        if len(tasks) > MAX_TASKS:
            raise RequestError(413, f"{len(tasks)} tasks in one request; at most {MAX_TASKS}")
        served = self.current
        schema = served.predictor.schema
        label_config = body.get("label_config")
        if label_config is not None:
            self.check_label_config(label_config, served)
        key = text_key(label_config, schema.to_name)
        texts = []
        for i, task in enumerate(tasks):
            data = task.get("data") if isinstance(task, dict) else None
            if not isinstance(data, dict):
                raise RequestError(400, f"task {i}: no 'data' object")
            text = data.get(key)
            if not isinstance(text, str):
                raise RequestError(400, f"task {task.get('id', i)}: data.{key} is missing or not a string")
            texts.append(text)
        wanted = [i for i, t in enumerate(texts) if t.strip()]
        with self._predict_lock:
            scored = predict_scored(served.predictor, [Document(id=str(i), text=texts[i]) for i in wanted])
        results: list[dict] = [{"result": [], "score": 0.0, "model_version": served.version} for _ in tasks]
        for i, (doc, score) in zip(wanted, scored):
            doc = Document(id=doc.id, text=doc.text, spans=doc.spans, attributions=doc.attributions,
                           layers=doc.layers, provenance=doc.provenance)
            (task,) = to_tasks([doc], as_predictions=True, model_version=served.version, schema=schema)
            results[i] = {"result": task["predictions"][0]["result"], "score": round(score, 6),
                          "model_version": served.version}
        return {"results": results, "model_version": served.version}

    def webhook(self, body: dict) -> tuple[int, dict]:
        action = body.get("action")
        if not isinstance(action, str) or not action:
            raise RequestError(400, "'action' is missing: a Label Studio webhook event is expected")
        if action != "START_TRAINING":
            return 200, {"status": "ignored", "action": action}
        project = parse_project_id(body.get("project"))
        if project is None:
            raise RequestError(400, "START_TRAINING without a project id")
        created, job = self.start_training(project=project)
        return (201 if created else 200), {**job.public(), "status": "started" if created else "busy"}

    def train_request(self, body: dict) -> tuple[int, dict]:
        """Label Studio's older `/train` call: the annotated tasks come with the request."""
        from whosaid.studio.client import export_name, write_new_file

        tasks = body.get("annotations")
        if not isinstance(tasks, list) or not tasks:
            raise RequestError(400, "'annotations' must be a non-empty list of annotated tasks")
        project = parse_project_id(body.get("project"))
        exports = self.workdir / "exports"
        exports.mkdir(parents=True, exist_ok=True)
        content = json.dumps(tasks, ensure_ascii=False).encode("utf-8")
        name = export_name(project if project is not None else "train", content)
        path = exports / name
        if not path.exists():
            write_new_file(exports, name, content, validate=self._validate_export)
        created, job = self.start_training(project=project, annotations=path)
        return (201 if created else 200), {**job.public(), "status": "started" if created else "busy"}

    def _validate_export(self, path: Path) -> None:
        from whosaid.readers.labelstudio_json import read_export

        try:
            read_export(path, self.current.predictor.schema)
        except AnnotationError as exc:
            raise RequestError(422, f"annotations unusable: {exc.reason} (task {exc.task})") from None

    def job_status(self, body: dict) -> dict:
        job = self.job
        wanted = body.get("job")
        if job is None or (wanted is not None and str(wanted) != job.id):
            raise RequestError(404, f"no training job {wanted!r}")
        return job.public()

    def versions(self) -> dict:
        return {"versions": [h["version"] for h in self.history], "current": self.current.version}

    # -------------------------------------------------------------- training

    def label_studio_connection(self, project: int | None) -> tuple[str | None, str | None]:
        """URL and token for exports: the configured ones, else what /setup sent for the project."""
        url, token = self.label_studio_url, self._label_studio_token
        host, setup_token = self._from_setup.get(project, (None, None)) if project is not None else (None, None)
        return url or host, token or setup_token

    def start_training(self, *, project: int | None = None, annotations: Path | None = None) -> tuple[bool, TrainingJob]:
        """Start an update unless one runs; (started, the job)."""
        from whosaid.studio.updating import new_run_name, workdir_paths

        with self._lock:
            if self.job is not None and self.job.state == "running":
                return False, self.job
            name = new_run_name()
            updates = workdir_paths(self.workdir)["updates"]
            n = 1
            while (updates / name).exists() or (self.job is not None and self.job.id == name):
                n += 1
                name = f"{new_run_name()}-{n}"
            job = TrainingJob(id=name, run_dir=updates / name, base=self.current, project=project,
                              annotations=annotations)
            self.job = job
        log.info("update %s started from %s (project %s)", job.id, job.base.version, project)
        threading.Thread(target=self._run_job, args=(job,), name=f"update-{job.id}", daemon=True).start()
        return True, job

    def _run_job(self, job: TrainingJob) -> None:
        from whosaid.studio.updating import LOG_FILE, append_log, summary

        try:
            decision = self.runner(job, self)
            if decision.get("accepted"):
                self.swap(decision["version"], Path(decision["model"]))
            job.message = summary(decision)
            job.state = "accepted" if decision.get("accepted") else "rejected"
        except Exception as exc:  # noqa: BLE001 - the job fails, the server goes on
            job.state = "failed"
            _, token = self.label_studio_connection(job.project)
            job.message = _scrub(f"{type(exc).__name__}: {exc}" if not isinstance(exc, WhosaidError) else str(exc),
                                 token)[:1000]
            log.error("update %s failed: %s", job.id, job.message)
            append_log(job.run_dir.parent / LOG_FILE, {"version": job.id, "accepted": False, "failed": job.message,
                                                       "base_model": str(job.base.model_dir), "finished_at": _now()})
        finally:
            job.finished_at = _now()
            job.process = None
            log.info("update %s: %s %s", job.id, job.state, job.message)

    def close(self) -> None:
        """Stop a running update's child process (by its own PID)."""
        job = self.job
        proc = job.process if job is not None else None
        if proc is not None and proc.poll() is None:
            log.info("stopping update %s (pid %d)", job.id, proc.pid)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _scrub(message: str, token: str | None) -> str:
    return message.replace(token, "***") if token else message


def update_command(job: TrainingJob, service: ModelService) -> list[str]:
    """`whosaid studio train ...` for a job (the Label Studio token goes in the environment)."""
    cmd = [sys.executable, "-m", "whosaid", "studio", "train", "--model", str(job.base.model_dir),
           "--run-dir", str(job.run_dir), "--workdir", str(service.workdir), "--config", str(service.recipe)]
    cmd += ["--annotations", str(job.annotations)] if job.annotations is not None else ["--project", str(job.project)]
    for item in service.overrides:
        cmd += ["--set", item]
    if service.polnear:
        cmd += ["--polnear", service.polnear]
    return cmd


def subprocess_runner(job: TrainingJob, service: ModelService) -> dict:
    """Run the update in a child process (a crash or a memory spike there leaves the
    server serving); its output goes to `updates/<job>.log`."""
    from whosaid.studio.client import TOKEN_ENV, URL_ENV
    from whosaid.studio.updating import UpdateError, read_decision

    env = dict(os.environ)
    if job.annotations is None:
        url, token = service.label_studio_connection(job.project)
        if not url or not token:
            raise UpdateError(f"no Label Studio connection to export project {job.project} from: start the server "
                              f"with ${URL_ENV} and ${TOKEN_ENV} set (or connect it from a project first)")
        env[URL_ENV], env[TOKEN_ENV] = url, token
    job.run_dir.parent.mkdir(parents=True, exist_ok=True)
    log_path = job.run_dir.parent / f"{job.id}.log"
    with open(log_path, "ab") as out:
        job.process = subprocess.Popen(update_command(job, service), stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env)
        code = job.process.wait()
    decision = read_decision(job.run_dir)
    if code != 0 or decision is None:
        tail = [line for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
        last = tail[-1] if tail else "no output"
        raise UpdateError(f"update process exited with status {code}: {last} (log: {log_path})")
    return decision


# ------------------------------------------------------------------------ HTTP


def create_app(service: ModelService, secret: str | None = None):
    """The Starlette application serving `service`; with `secret`, every request must carry it."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    async def read_json(request: Request) -> dict:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise RequestError(413, f"request body over {MAX_BODY_BYTES} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise RequestError(413, f"request body over {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body.strip():
            raise RequestError(400, "empty request body: a JSON object is expected")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise RequestError(400, "the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise RequestError(400, "the request body must be a JSON object")
        return data

    def endpoint(handler: Callable, *, body: bool = True, threaded: bool = False):
        async def run(request: Request) -> JSONResponse:
            try:
                if secret and not authorized(request.headers.get("authorization"), secret):
                    return error(401, "missing or wrong credentials (Authorization: Bearer SECRET, "
                                      "or basic auth with the secret as password)",
                                 {"WWW-Authenticate": 'Basic realm="whosaid"'})
                args = (await read_json(request),) if body else ()
                result = await run_in_threadpool(handler, *args) if threaded else handler(*args)
            except RequestError as exc:
                return error(exc.status, exc.message)
            except Exception:  # noqa: BLE001 - logged here, never sent
                log.exception("%s %s failed", request.method, request.url.path)
                return error(500, "internal error in the model server; see its log")
            status, payload = result if isinstance(result, tuple) else (200, result)
            return JSONResponse(payload, status_code=status)

        return run

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, exc.detail if isinstance(exc.detail, str) else "request refused",
                     getattr(exc, "headers", None))

    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return error(500, "internal error in the model server; see its log")

    @asynccontextmanager
    async def lifespan(app):
        yield
        service.close()

    routes = [
        Route("/", endpoint(service.health, body=False), methods=["GET"]),
        Route("/health", endpoint(service.health, body=False), methods=["GET"]),
        Route("/setup", endpoint(service.setup), methods=["POST"]),
        Route("/predict", endpoint(service.predict, threaded=True), methods=["POST"]),
        Route("/webhook", endpoint(service.webhook), methods=["POST"]),
        Route("/train", endpoint(service.train_request, threaded=True), methods=["POST"]),
        Route("/job_status", endpoint(service.job_status), methods=["POST"]),
        Route("/versions", endpoint(service.versions, body=False), methods=["GET"]),
        Route("/metrics", endpoint(lambda: {}, body=False), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={HTTPException: http_error, Exception: internal_error})


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
