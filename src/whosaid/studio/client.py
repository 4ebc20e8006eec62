"""The annotation loop against a Label Studio server, through label-studio-sdk
(on the command line: `whosaid studio ...`).

project -> import -> check -> predictions (pre-annotations) -> annotators correct
-> export (a new file in data/) -> train.py lists that file.

The server URL and API token come from `--url`/`--token` or `LABEL_STUDIO_URL` /
`LABEL_STUDIO_API_KEY`. The token is only handed to the client: it is never printed,
logged or written, and every error message is scrubbed of it. Every failure (server
unreachable, token refused, project missing, timeout, bad data) ends in one line on
stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from whosaid.errors import AnnotationError, WhosaidError
from whosaid.schema import Schema, default_label_config_path

URL_ENV, TOKEN_ENV = "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"
#: Full predictions in exports (Label Studio lists them as ids only by default).
SERIALIZATION_OPTIONS = {"predictions": {"only_id": False}}
EXPORT_PREFIX = "labelstudio"


class StudioError(WhosaidError):
    """A failure the user can act on; the message is printed as is (after scrubbing)."""


@dataclass(frozen=True)
class Connection:
    """Where the server is. `token` is excluded from repr so it cannot leak into logs."""

    url: str
    token: str = field(repr=False)
    timeout: float = 30.0


def connect(conn: Connection) -> Any:
    """A label-studio-sdk 2.x client (imported lazily: `whosaid --help` does not pay for it)."""
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=conn.url, api_key=conn.token, timeout=conn.timeout)


# ------------------------------------------------------------------------ helpers


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """Attribute of an SDK model or key of a dict (exports and fakes give dicts)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def answered_id(obj: Any, what: str) -> int:
    """The id of an object the server answered with; `StudioError` when there is none (a
    server answering 200 with `{}` is not a Label Studio server doing what was asked)."""
    ident = _get(obj, "id") if obj is not None else None
    if not isinstance(ident, int) or isinstance(ident, bool):
        raise StudioError(f"Label Studio answered without a {what} id ({'nothing' if obj is None else 'id ' + repr(ident)[:40]}); "
                          "is the URL that of a Label Studio server?")
    return ident


def get_project(client: Any, project_id: int) -> Any:
    return client.projects.get(id=project_id)


def project_schema(project: Any, project_id: int) -> Schema:
    xml = _get(project, "label_config")
    if not xml:
        raise StudioError(f"project {project_id} has no labeling config")
    try:
        return Schema.from_label_config(xml=xml)
    except AnnotationError as exc:
        raise StudioError(f"project {project_id}: labeling config unusable: {exc.reason}") from exc


def required_schema(model_dir: Path | None, label_config: Path | None) -> tuple[Schema, str]:
    """The schema the model needs and where it came from: `DIR/config.json["schema"]`,
    else the labeling config file (default data/label-config.xml)."""
    if model_dir is not None:
        config = model_dir / "config.json"
        if config.is_file():
            try:
                return Schema.from_dict(json.loads(config.read_text(encoding="utf-8"))["schema"]), str(config)
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise StudioError(f"{config}: no usable 'schema' entry ({type(exc).__name__}: {exc})") from exc
        if not model_dir.is_dir():
            raise StudioError(f"model directory {model_dir} does not exist")
    path = label_config if label_config is not None else default_label_config_path()
    return Schema.from_label_config(path), str(path)


def check_project(client: Any, project_id: int, needed: Schema, needed_from: str) -> Schema:
    """Refuse a project whose labeling config lacks a layer or label `needed` has."""
    have = project_schema(get_project(client, project_id), project_id)
    missing = needed.missing_from(have)
    if have.to_name != needed.to_name:
        missing.append(f"text field {needed.to_name!r} (the project labels {have.to_name!r})")
    if missing:
        raise StudioError(f"project {project_id} cannot hold the model's labels: its labeling "
                          f"config lacks {', '.join(missing)} (required by {needed_from}); "
                          "update it with `whosaid studio project`")
    return have


def _all_tasks(client: Any, project_id: int, *, with_predictions: bool = False) -> list[Any]:
    """Every task of a project (the pager follows pages; it ends silently on a 404, so
    callers fetch the project first to tell a missing project from an empty one)."""
    if with_predictions:
        return list(client.tasks.list(project=project_id, fields="all"))
    return list(client.tasks.list(project=project_id))


def _task_keys(task: dict | Any) -> tuple[str | None, str | None]:
    data = _get(task, "data") or {}
    ident = data.get("id")
    return (None if ident is None else str(ident)), data.get("text")


def match_tasks(wanted: list[dict], existing: list[Any], *, file: str) -> list[int]:
    """Project task id for each task of a file: by data.id when both have one, else by
    identical text. Ambiguous or missing matches are errors (nothing is uploaded)."""
    by_id: dict[str, list[int]] = {}
    by_text: dict[str, list[int]] = {}
    for t in existing:
        ident, text = _task_keys(t)
        if ident is not None:
            by_id.setdefault(ident, []).append(_get(t, "id"))
        if text is not None:
            by_text.setdefault(text, []).append(_get(t, "id"))
    out = []
    for pos, task in enumerate(wanted):
        ident, text = _task_keys(task)
        label = ident if ident is not None else pos
        hits = by_id.get(ident, []) if ident is not None else []
        if not hits:
            hits = by_text.get(text, []) if text is not None else []
        if not hits:
            raise AnnotationError("no task in the project has this data.id or text; "
                                  "import the articles first (`whosaid studio import`)",
                                  file=file, task=label)
        if len(hits) > 1:
            raise AnnotationError(f"{len(hits)} project tasks match (ids "
                                  f"{', '.join(map(str, hits[:5]))}); remove the duplicates",
                                  file=file, task=label)
        out.append(hits[0])
    return out


def export_name(project: int | str, content: bytes, now: datetime | None = None,
                name: str | None = None) -> str:
    """`labelstudio-<project or NAME>-<UTC time>-<sha256[:12]>.json`: new per content and time."""
    now = now or datetime.now(timezone.utc)
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(content).hexdigest()[:12]
    label = name if name is not None else str(project)
    return f"{EXPORT_PREFIX}-{label}-{stamp}-{digest}.json"


def same_export(directory: Path, name: str, content: bytes) -> Path | None:
    """An earlier export in `directory` with the same label and the same bytes as `content`."""
    label, digest = name.rsplit("-", 2)[0], name.rsplit("-", 1)[1]
    for path in sorted(directory.glob(f"{label}-*-{digest}"), reverse=True):
        if path.name.count("-") == name.count("-") and path.is_file() and path.read_bytes() == content:
            return path
    return None


def write_new_file(directory: Path, name: str, content: bytes,
                   validate: Callable[[Path], Any] | None = None) -> Path:
    """Write `content` to `directory/name` atomically, refusing to replace a file.

    The bytes go to a hidden temp file in the same directory, are validated there
    (`validate(temp_path)`; any exception aborts), then hard-linked into place, which
    fails if the name exists (os.replace would overwrite). On any failure the temp
    file is removed, so the directory is left as it was.
    """
    final = directory / name
    if final.exists():
        raise StudioError(f"{final} exists; exports are never overwritten")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp.json", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if validate is not None:
            validate(tmp)
        try:
            os.link(tmp, final)
        except FileExistsError:
            raise StudioError(f"{final} exists; exports are never overwritten") from None
        except OSError:  # a filesystem without hard links: check, then rename
            if final.exists():
                raise StudioError(f"{final} exists; exports are never overwritten") from None
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


# ---------------------------------------------------------------------- operations


def upsert_project(client: Any, title: str, label_config: Path | None = None) -> tuple[int, bool]:
    """Create the project titled `title`, or update its labeling config; (id, created)."""
    path = label_config if label_config is not None else default_label_config_path()
    Schema.from_label_config(path)  # a broken config is refused before it reaches the server
    xml = Path(path).read_text(encoding="utf-8")
    same = [p for p in client.projects.list(title=title) if _get(p, "title") == title]
    if len(same) > 1:
        raise StudioError(f"{len(same)} projects are titled {title!r} (ids "
                          f"{', '.join(str(_get(p, 'id')) for p in same)}); rename all but one")
    if same:
        project_id = answered_id(same[0], "project")
        client.projects.update(id=project_id, label_config=xml)
        return project_id, False
    return answered_id(client.projects.create(title=title, label_config=xml), "project"), True


def import_articles(client: Any, project_id: int, inputs) -> tuple[int, int]:
    """Import articles (.txt, folders of .txt, .jsonl) as tasks, skipping texts the
    project already has; (tasks imported, tasks read)."""
    from whosaid.readers.labelstudio_json import to_tasks
    from whosaid.readers.seeds import read_text_inputs

    docs = read_text_inputs(inputs)
    # Only `data`: articles go in as tasks to annotate; pre-annotations use `predictions`.
    tasks = [{"data": t["data"]} for t in to_tasks(docs)]
    get_project(client, project_id)  # 404 before anything is sent
    known = {text for _, text in map(_task_keys, _all_tasks(client, project_id))}
    new = [t for t in tasks if t["data"].get("text") not in known]
    if new:
        answer = client.projects.import_tasks(id=project_id, request=new)
        count = _get(answer, "task_count") if answer is not None else None
        if not isinstance(count, int) or isinstance(count, bool):
            raise StudioError(f"Label Studio answered the import into project {project_id} without a task count; "
                              "check the project in Label Studio before importing again")
    return len(new), len(tasks)


def _load_prediction_tasks(path: Path, schema: Schema) -> list[dict]:
    """The tasks of a `whosaid predict --format labelstudio` file, every prediction validated
    against `schema` (offsets, labels, relations) before anything is uploaded."""
    from whosaid.readers.labelstudio_json import document_from_task, read_export

    read_export(path, schema, source="predictions")  # the file as a whole: JSON, task ids
    tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    for pos, task in enumerate(tasks):
        if not task.get("predictions"):
            raise AnnotationError("task has no predictions", file=path,
                                  task=task["data"].get("id", pos))
        for pred in task["predictions"]:
            document_from_task({**task, "predictions": [pred]}, schema, file=str(path),
                               source="predictions", index=pos)
    return tasks


def upload_predictions(client: Any, project_id: int, file: Path, *, model: Path | None = None,
                       label_config: Path | None = None, model_version: str | None = None) -> tuple[int, int]:
    """Upload a predictions file as pre-annotations; (uploaded, skipped because a
    prediction of that model_version is already there)."""
    needed, needed_from = required_schema(model, label_config)
    have = check_project(client, project_id, needed, needed_from)
    # Validate against the project's own schema: every label used must exist there.
    tasks = _load_prediction_tasks(file, have)
    existing = _all_tasks(client, project_id, with_predictions=True)
    task_ids = match_tasks(tasks, existing, file=str(file))
    # Re-running an upload must not stack duplicate pre-annotations: a task that already
    # has a prediction of the same model_version is skipped.
    versions = {_get(t, "id"): {_get(p, "model_version") for p in (_get(t, "predictions") or [])}
                for t in existing}
    count = skipped = 0
    for task, task_id in zip(tasks, task_ids):
        for pred in task["predictions"]:
            version = model_version or pred.get("model_version")
            if version is not None and str(version) in versions.get(task_id, ()):
                skipped += 1
                continue
            kwargs = {"task": task_id, "result": pred["result"]}
            if version is not None:
                kwargs["model_version"] = str(version)
            if pred.get("score") is not None:
                kwargs["score"] = float(pred["score"])
            answered_id(client.predictions.create(**kwargs), "prediction")
            count += 1
    return count, skipped


def download_export(client: Any, project_id: int, timeout: float) -> bytes:
    """JSON export with annotations and full predictions, as the server sent it."""
    exports = client.projects.exports
    snapshot = exports.create(id=project_id, title="whosaid studio export",
                              serialization_options=SERIALIZATION_OPTIONS)
    export_id = answered_id(snapshot, "export")
    deadline = time.monotonic() + timeout
    while _get(snapshot, "status") not in ("completed", None):
        if _get(snapshot, "status") == "failed":
            raise StudioError(f"Label Studio failed to build export {export_id} of project {project_id}")
        if time.monotonic() > deadline:
            raise StudioError(f"export {export_id} of project {project_id} not ready after {timeout:.0f} s")
        time.sleep(1)
        snapshot = exports.get(id=project_id, export_pk=export_id)
    return b"".join(exports.download(id=project_id, export_pk=export_id, export_type="JSON"))


def export_project(client: Any, project_id: int, output_dir: Path, *, name: str | None = None,
                   timeout: float = 30.0) -> tuple[Path, list | None]:
    """Export the project's annotations to a new file in `output_dir`, validated before
    it appears; (path, documents read from it), or (the earlier identical export, None)."""
    from whosaid.readers.labelstudio_json import read_export

    if name is not None and not re.fullmatch(r"[A-Za-z0-9_.]+", name):
        raise StudioError(f"--name {name!r}: use letters, digits, '_' and '.' only")
    if not output_dir.is_dir():
        raise StudioError(f"output directory {output_dir} does not exist")
    schema = project_schema(get_project(client, project_id), project_id)
    content = download_export(client, project_id, timeout)
    docs: list = []

    def validate(tmp: Path) -> None:
        try:
            docs.extend(read_export(tmp, schema))
        except AnnotationError as exc:  # name the export, not the temp file
            raise AnnotationError(exc.reason, file=f"export of project {project_id}",
                                  task=exc.task, region=exc.region) from None

    file_name = export_name(project_id, content, name=name)
    same = same_export(output_dir, file_name, content)
    if same is not None:  # content-addressed: an identical export is not written twice
        return same, None
    return write_new_file(output_dir, file_name, content, validate), docs


def check_model_labels(client: Any, project_id: int, model: Path | None = None,
                       label_config: Path | None = None) -> str:
    """Refuse a project lacking a layer or label the model (or labeling config) needs;
    returns what the requirement came from."""
    needed, needed_from = required_schema(model, label_config)
    check_project(client, project_id, needed, needed_from)
    return needed_from


# ----------------------------------------------------- connection settings, failures


def connection_settings(url: str | None, token: str | None, timeout: float, env: dict | None = None) -> Connection:
    """The server to talk to: `url`/`token`, else $LABEL_STUDIO_URL / $LABEL_STUDIO_API_KEY."""
    env = os.environ if env is None else env
    url = (url or env.get(URL_ENV) or "").strip().rstrip("/")
    token = (token or env.get(TOKEN_ENV) or "").strip()
    if not url:
        raise StudioError(f"no Label Studio URL: pass --url or set {URL_ENV}")
    if not url.startswith(("http://", "https://")):
        raise StudioError(f"Label Studio URL must start with http:// or https://: {display_url(url)!r}")
    if not token:
        raise StudioError(f"no API token: set {TOKEN_ENV} (or pass --token)")
    if not (token.isascii() and token.isprintable()):  # an HTTP header carries printable ASCII only
        raise StudioError(f"the API token holds characters an HTTP header cannot carry (non-ASCII or "
                          f"control characters); check {TOKEN_ENV} (or --token)")
    if timeout <= 0:
        raise StudioError("--timeout must be positive")
    return Connection(url=url, token=token, timeout=timeout)


def describe_failure(exc: BaseException, conn: Connection | None,
                     project: int | None = None) -> str:
    """One line for the user; never the token, never a traceback."""
    import httpx

    where = f"Label Studio at {display_url(conn.url)}" if conn else "Label Studio"
    status = getattr(exc, "status_code", None)
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} did not answer within {conn.timeout:g} s (raise --timeout?)"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot reach {where}: is the server running and the URL right?"
    if isinstance(exc, httpx.HTTPError):
        return f"network error talking to {where}: {type(exc).__name__}"
    if status in (401, 403):
        return (f"{where} refused the API token (HTTP {status}); check {TOKEN_ENV} "
                "(a legacy token needs a server started with --enable-legacy-api-token)")
    if status == 404:
        return (f"project {project} not found on {where}" if project is not None
                else f"not found on {where} (HTTP 404)")
    if status is not None:
        body = getattr(exc, "body", None)
        detail = json.dumps(body)[:300] if body is not None else ""
        return f"{where} answered HTTP {status}: {detail}".rstrip(": ")
    if isinstance(exc, (WhosaidError, OSError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"



def secret_forms(secret: str) -> set[str]:
    """The ways `secret` can appear in a message: as is, JSON-escaped (a server echoing
    it in a JSON body), Python-escaped (a repr), percent-encoded (inside a URL)."""
    from urllib.parse import quote, quote_plus, unquote

    forms = {secret, unquote(secret), json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             repr(secret)[1:-1], repr(secret.encode("utf-8", "surrogateescape"))[2:-1],
             quote(secret, safe=""), quote_plus(secret, safe="")}
    return {f for f in forms if f}


def url_secrets(url: str | None) -> list[str]:
    """The credentials written inside a URL (`https://user:pass@host`): user, password, both."""
    if not url:
        return []
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    return [s for s in (userinfo, parts.username, parts.password) if s]


def display_url(url: str) -> str:
    """`url` as it may be printed: credentials inside it replaced by ***."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "<the Label Studio URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def scrub(message: str, *secrets: str | None) -> str:
    """`message` with every form (`secret_forms`) of every secret replaced by ***, the
    longest first."""
    forms = sorted({f for s in secrets if s for f in secret_forms(s) if len(f) >= 4 or (f == s and len(f) > 1)},
                   key=len, reverse=True)
    for f in forms:
        message = message.replace(f, "***")
    return message
