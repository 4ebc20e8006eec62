"""`whosaid studio` without a server: a fake client object stands in for label-studio-sdk."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from whosaid.cli import studio
from whosaid.documents import Document, Span
from whosaid.readers.labelstudio_json import to_tasks
from whosaid.schema import Schema
from whosaid.studio import client as studio_client

TOKEN = "0123456789abcdef0123456789abcdef01234567"
URL = "http://studio.invalid:8080"
TEXT = "Blinken said Russia has 90,000 troops."


class ApiError(Exception):
    """Shaped like label_studio_sdk.core.api_error.ApiError (status_code, body)."""

    def __init__(self, status_code: int, body=None):
        super().__init__(f"status_code: {status_code}, body: {body}")
        self.status_code, self.body = status_code, body


class FakeClient:
    """The slice of the SDK surface `studio` uses, recording every call."""

    def __init__(self, label_config: str, *, projects=None, tasks=None, export=b"[]",
                 fail: BaseException | None = None):
        self.calls: list[tuple[str, dict]] = []
        self.label_config = label_config
        self.project_list = projects if projects is not None else [
            SimpleNamespace(id=7, title="news", label_config=label_config)]
        self.task_list = tasks if tasks is not None else []
        self.export_bytes = export
        self.fail = fail
        rec = self._recorder
        self.projects = SimpleNamespace(
            list=rec("projects.list", lambda **kw: list(self.project_list)),
            get=rec("projects.get", self._get_project),
            create=rec("projects.create", lambda **kw: SimpleNamespace(id=99, **kw)),
            update=rec("projects.update", lambda **kw: SimpleNamespace(**kw)),
            import_tasks=rec("projects.import_tasks", lambda **kw: SimpleNamespace(task_count=len(kw["request"]))),
            exports=SimpleNamespace(
                create=rec("exports.create", lambda **kw: SimpleNamespace(id=3, status="completed")),
                get=rec("exports.get", lambda **kw: SimpleNamespace(id=3, status="completed")),
                download=rec("exports.download", lambda **kw: iter([self.export_bytes])),
            ),
        )
        self.tasks = SimpleNamespace(list=rec("tasks.list", lambda **kw: list(self.task_list)))
        self.predictions = SimpleNamespace(create=rec("predictions.create", lambda **kw: SimpleNamespace(id=1)))

    def _recorder(self, name, fn):
        def call(**kwargs):
            self.calls.append((name, kwargs))
            if self.fail is not None:
                raise self.fail
            return fn(**kwargs)
        return call

    def _get_project(self, id):
        for p in self.project_list:
            if p.id == id:
                return p
        raise ApiError(404, {"detail": "Not found."})

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def writes(self) -> list[str]:
        return [n for n in self.names() if n.split(".")[-1] in ("create", "update", "import_tasks")]


@pytest.fixture
def label_config(repo_root) -> str:
    return (repo_root / "data" / "label-config.xml").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", URL)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)


def run(argv, client, capsys):
    """main() with the fake client; (exit code, stdout, stderr)."""
    seen = []

    def factory(conn):
        seen.append(conn)
        return client

    code = studio.main(argv, client_factory=factory)
    out, err = capsys.readouterr()
    assert TOKEN not in out and TOKEN not in err
    return code, out, err


def reduced_config(full: str) -> str:
    """The labeling config without the stance layer's OPPOSE label and the figure layer."""
    import re

    xml = full.replace('<Label value="OPPOSE" background="#d62728"/>', "")
    xml = re.sub(r'<Labels name="figure".*?</Labels>', "", xml, flags=re.S)
    assert "OPPOSE" not in xml and 'name="figure"' not in xml
    return xml


def gold_doc() -> Document:
    said = TEXT.index("said")
    return Document(id="a1", text=TEXT, layers=frozenset({"attribution", "figure", "stance"}),
                    spans=(Span("attribution", "SPEAKER", 0, 7), Span("attribution", "CUE", said, said + 4),
                           Span("figure", "FIGURE", TEXT.index("90,000"), TEXT.index(" troops."))))


# ------------------------------------------------------------ connection settings


def test_url_and_token_from_env_and_flags(monkeypatch):
    args = studio.build_parser().parse_args(["check", "--project", "1"])
    conn = studio.resolve_connection(args)
    assert (conn.url, conn.token) == (URL, TOKEN)
    args = studio.build_parser().parse_args(
        ["--url", "http://127.0.0.1:9/", "--token", "flagtoken", "check", "--project", "1"])
    conn = studio.resolve_connection(args)
    assert (conn.url, conn.token) == ("http://127.0.0.1:9", "flagtoken")  # trailing / dropped
    assert "flagtoken" not in repr(conn)


@pytest.mark.parametrize("unset, expected", [("LABEL_STUDIO_URL", "no Label Studio URL"),
                                             ("LABEL_STUDIO_API_KEY", "no API token")])
def test_missing_url_or_token_is_a_clean_error(monkeypatch, capsys, label_config, unset, expected):
    monkeypatch.delenv(unset)
    client = FakeClient(label_config)
    code, out, err = run(["check", "--project", "7"], client, capsys)
    assert code == 2 and expected in err and "Traceback" not in err  # a configuration error
    assert client.calls == []


def test_bad_url_scheme(capsys, label_config):
    code, _, err = run(["--url", "localhost:8080", "check", "--project", "7"], FakeClient(label_config), capsys)
    assert code == 2 and "http://" in err


# --------------------------------------------------------------- error messages


@pytest.mark.parametrize("status, expected", [(401, "refused the API token"),
                                              (403, "refused the API token"),
                                              (404, "project 7 not found"),
                                              (500, "answered HTTP 500")])
def test_http_errors_are_one_line_without_token(capsys, label_config, status, expected):
    # A server that echoes the token in its body must not get it printed either.
    client = FakeClient(label_config, fail=ApiError(status, {"detail": f"bad {TOKEN}"}))
    code, out, err = run(["check", "--project", "7"], client, capsys)
    assert code == 1 and expected in err
    assert err.count("\n") == 1 and out == ""


def test_missing_project_is_reported_by_id(capsys, label_config):
    code, _, err = run(["check", "--project", "12345"], FakeClient(label_config), capsys)
    assert code == 1 and "project 12345 not found" in err


def test_network_errors(capsys, label_config):
    import httpx

    code, _, err = run(["check", "--project", "7"],
                       FakeClient(label_config, fail=httpx.ConnectError("refused")), capsys)
    assert code == 1 and "cannot reach Label Studio at " + URL in err
    code, _, err = run(["--timeout", "2.5", "check", "--project", "7"],
                       FakeClient(label_config, fail=httpx.ReadTimeout("slow")), capsys)
    assert code == 1 and "did not answer within 2.5 s" in err


def test_real_client_unreachable_server(capsys, monkeypatch):
    """The real SDK client against a port nobody listens on: a clean message, no traceback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{port}")
    code = studio.main(["check", "--project", "1"])
    out, err = capsys.readouterr()
    assert code == 1 and "cannot reach Label Studio" in err and "Traceback" not in err
    assert TOKEN not in err + out


def test_real_client_timeout(capsys, monkeypatch):
    """A server that accepts and never answers: the timeout is reported as such."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{server.getsockname()[1]}")
        code = studio.main(["--timeout", "0.5", "check", "--project", "1"])
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
    out, err = capsys.readouterr()
    assert code == 1 and "did not answer within 0.5 s" in err and TOKEN not in err


# ------------------------------------------------------------------ project, check


def test_project_created_when_title_is_new(capsys, label_config, repo_root):
    client = FakeClient(label_config, projects=[])
    code, out, _ = run(["project", "--title", "news", "--label-config",
                        str(repo_root / "data" / "label-config.xml")], client, capsys)
    assert code == 0 and out.strip() == "99"
    (name, kwargs), = [c for c in client.calls if c[0] == "projects.create"]
    assert kwargs == {"title": "news", "label_config": label_config}


def test_project_updated_when_title_exists(capsys, label_config):
    client = FakeClient(label_config, projects=[SimpleNamespace(id=4, title="other", label_config=""),
                                                SimpleNamespace(id=7, title="news", label_config="")])
    code, out, _ = run(["project", "--title", "news"], client, capsys)
    assert code == 0 and out.strip() == "7"
    assert ("projects.update", {"id": 7, "label_config": label_config}) in client.calls
    assert "projects.create" not in client.names()


def test_project_refuses_broken_config_before_contacting_server(capsys, label_config, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<View><Text name='text' value='$text'/></View>")
    client = FakeClient(label_config)
    code, _, err = run(["project", "--title", "x", "--label-config", str(bad)], client, capsys)
    assert code == 1 and "no <Labels> layer" in err and client.calls == []


def test_check_accepts_full_config(capsys, label_config):
    code, out, _ = run(["check", "--project", "7"], FakeClient(label_config), capsys)
    assert code == 0 and "project 7 has every layer and label" in out


def test_check_refuses_project_lacking_layer_and_label(capsys, label_config):
    client = FakeClient(label_config, projects=[SimpleNamespace(id=7, title="news",
                                                                label_config=reduced_config(label_config))])
    code, out, err = run(["check", "--project", "7"], client, capsys)
    assert code == 1 and out == ""
    assert "layer 'figure'" in err and "label stance/OPPOSE" in err
    assert client.writes() == []


def test_check_uses_model_schema(capsys, label_config, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    schema = Schema(layers={"attribution": ("SPEAKER", "CUE", "CONTENT"), "extra": ("X",)})
    (model / "config.json").write_text(json.dumps({"schema": schema.to_dict()}))
    code, _, err = run(["check", "--project", "7", "--model", str(model)], FakeClient(label_config), capsys)
    assert code == 1 and "layer 'extra'" in err and "config.json" in err
    # A model dir without config.json falls back to the labeling config.
    (model / "config.json").unlink()
    code, _, _ = run(["check", "--project", "7", "--model", str(model)], FakeClient(label_config), capsys)
    assert code == 0


# --------------------------------------------------------------------- import


def test_import_sends_text_and_metadata_once(capsys, label_config, tmp_path):
    jsonl = tmp_path / "articles.jsonl"
    jsonl.write_text(json.dumps({"id": "a1", "text": TEXT, "outlet": "Wire"}) + "\n"
                     + json.dumps({"id": "a2", "text": "Another article."}) + "\n")
    already = SimpleNamespace(id=1, data={"text": "Another article."})
    client = FakeClient(label_config, tasks=[already])
    code, out, _ = run(["import", "--project", "7", str(jsonl)], client, capsys)
    assert code == 0 and out.strip() == "1"
    (_, kwargs), = [c for c in client.calls if c[0] == "projects.import_tasks"]
    assert kwargs["id"] == 7
    (task,) = kwargs["request"]
    assert set(task) == {"data"}
    assert task["data"]["text"] == TEXT and task["data"]["id"] == "a1" and task["data"]["outlet"] == "Wire"


def test_import_bad_input_writes_nothing(capsys, label_config, tmp_path):
    client = FakeClient(label_config)
    code, _, err = run(["import", "--project", "7", str(tmp_path / "missing.txt")], client, capsys)
    assert code == 1 and "missing.txt" in err and client.writes() == []


# ----------------------------------------------------------------- predictions


def predictions_file(tmp_path: Path, docs) -> Path:
    path = tmp_path / "predictions.json"
    path.write_text(json.dumps(to_tasks(docs, as_predictions=True, model_version="m1")))
    return path


def test_predictions_matched_by_text_and_id(capsys, label_config, tmp_path):
    doc = gold_doc()
    other = Document(id="b2", text="Other text.", layers=frozenset({"figure"}))
    path = predictions_file(tmp_path, [doc, other])
    tasks = [SimpleNamespace(id=11, data={"text": TEXT}),                       # by text
             SimpleNamespace(id=12, data={"text": "changed", "id": "b2"})]     # by data.id
    client = FakeClient(label_config, tasks=tasks)
    code, out, _ = run(["predictions", "--project", "7", str(path), "--model-version", "v9"], client, capsys)
    assert code == 0 and out.strip() == "2"
    created = [kw for name, kw in client.calls if name == "predictions.create"]
    assert [kw["task"] for kw in created] == [11, 12]
    assert all(kw["model_version"] == "v9" for kw in created)
    expected = json.loads(path.read_text())[0]["predictions"][0]["result"]
    assert created[0]["result"] == expected


def test_predictions_unmatched_task_uploads_nothing(capsys, label_config, tmp_path):
    path = predictions_file(tmp_path, [gold_doc()])
    client = FakeClient(label_config, tasks=[SimpleNamespace(id=11, data={"text": "unrelated"})])
    code, _, err = run(["predictions", "--project", "7", str(path)], client, capsys)
    assert code == 1 and "import the articles first" in err
    assert "predictions.create" not in client.names()


def test_predictions_refused_by_project_check(capsys, label_config, tmp_path):
    path = predictions_file(tmp_path, [gold_doc()])
    client = FakeClient(label_config, tasks=[SimpleNamespace(id=11, data={"text": TEXT})],
                        projects=[SimpleNamespace(id=7, title="n", label_config=reduced_config(label_config))])
    code, _, err = run(["predictions", "--project", "7", str(path)], client, capsys)
    assert code == 1 and "layer 'figure'" in err
    assert "predictions.create" not in client.names()


# ---------------------------------------------------------------------- export


def export_bytes(doc: Document) -> bytes:
    tasks = to_tasks([doc])
    tasks[0]["id"] = 11
    return json.dumps(tasks).encode()


def test_export_name_format():
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    digest = hashlib.sha256(b"[]").hexdigest()[:12]
    assert studio_client.export_name(7, b"[]", when) == f"labelstudio-7-20240506T070809Z-{digest}.json"
    assert studio_client.export_name(7, b"[]", when, name="round2").startswith("labelstudio-round2-")
    assert studio_client.export_name(7, b"[1]", when) != studio_client.export_name(7, b"[]", when)


def test_export_writes_new_validated_file(capsys, label_config, tmp_path):
    content = export_bytes(gold_doc())
    client = FakeClient(label_config, export=content)
    code, out, err = run(["export", "--project", "7", "--output-dir", str(tmp_path)], client, capsys)
    assert code == 0
    path = Path(out.strip())
    assert path.parent == tmp_path and path.read_bytes() == content
    assert path.name.startswith("labelstudio-7-") and path.name.endswith(
        hashlib.sha256(content).hexdigest()[:12] + ".json")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left
    (_, kwargs), = [c for c in client.calls if c[0] == "exports.create"]
    assert kwargs["serialization_options"] == {"predictions": {"only_id": False}}
    assert "1 with annotations, 0 with predictions only" in err
    assert TOKEN.encode() not in path.read_bytes()


def test_export_never_overwrites(capsys, label_config, tmp_path, monkeypatch):
    content = export_bytes(gold_doc())
    fixed = datetime(2024, 1, 1, tzinfo=timezone.utc)
    existing = tmp_path / studio_client.export_name(7, content, fixed)
    existing.write_text("precious")
    real_name = studio_client.export_name
    monkeypatch.setattr(studio_client, "export_name", lambda p, c, now=None, name=None: real_name(p, c, fixed, name))
    code, _, err = run(["export", "--project", "7", "--output-dir", str(tmp_path)],
                       FakeClient(label_config, export=content), capsys)
    assert code == 1 and "never overwritten" in err
    assert existing.read_text() == "precious" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("payload, expected", [
    (b"{not json", "invalid JSON"),
    (json.dumps([{"data": {"text": TEXT}, "annotations": [{"result": [
        {"id": "x", "type": "labels", "from_name": "attribution", "to_name": "text",
         "value": {"start": 0, "end": 999, "labels": ["SPEAKER"]}}]}]}]).encode(), "outside the text"),
])
def test_invalid_export_leaves_output_dir_unchanged(capsys, label_config, tmp_path, payload, expected):
    (tmp_path / "keep.json").write_text("[]")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    code, out, err = run(["export", "--project", "7", "--output-dir", str(tmp_path)],
                         FakeClient(label_config, export=payload), capsys)
    assert code == 1 and expected in err and out == ""
    assert "export of project 7" in err and ".tmp" not in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_export_server_failure_leaves_output_dir_unchanged(capsys, label_config, tmp_path):
    import httpx

    client = FakeClient(label_config)
    client.projects.exports.download = lambda **kw: (_ for _ in ()).throw(httpx.ReadTimeout("slow"))
    code, _, err = run(["export", "--project", "7", "--output-dir", str(tmp_path)], client, capsys)
    assert code == 1 and "did not answer" in err
    assert list(tmp_path.iterdir()) == []


def test_export_requires_existing_output_dir(capsys, label_config, tmp_path):
    client = FakeClient(label_config)
    code, _, err = run(["export", "--project", "7", "--output-dir", str(tmp_path / "nope")], client, capsys)
    assert code == 1 and "does not exist" in err and client.calls == []
    assert not (tmp_path / "nope").exists()


def test_write_new_file_removes_temp_on_validation_error(tmp_path):
    def reject(path: Path):
        assert path.parent == tmp_path and path.read_bytes() == b"x"
        raise ValueError("rejected")

    with pytest.raises(ValueError, match="rejected"):
        studio_client.write_new_file(tmp_path, "a.json", b"x", reject)
    assert list(tmp_path.iterdir()) == []
    assert studio_client.write_new_file(tmp_path, "a.json", b"y").read_bytes() == b"y"


def test_predictions_rerun_skips_same_model_version(capsys, label_config, tmp_path):
    path = predictions_file(tmp_path, [gold_doc()])
    task = SimpleNamespace(id=11, data={"text": TEXT}, predictions=[SimpleNamespace(model_version="m1")])
    client = FakeClient(label_config, tasks=[task])
    code, out, err = run(["predictions", "--project", "7", str(path)], client, capsys)
    assert code == 0 and out.strip() == "0" and "1 skipped" in err
    assert "predictions.create" not in client.names()
    code, out, _ = run(["predictions", "--project", "7", str(path), "--model-version", "m2"], client, capsys)
    assert code == 0 and out.strip() == "1"


def test_export_identical_content_is_not_written_twice(capsys, label_config, tmp_path):
    content = export_bytes(gold_doc())
    client = FakeClient(label_config, export=content)
    code, first, _ = run(["export", "--project", "7", "--output-dir", str(tmp_path)], client, capsys)
    assert code == 0
    code, again, err = run(["export", "--project", "7", "--output-dir", str(tmp_path)], client, capsys)
    assert code == 0 and again == first and "nothing changed" in err
    assert len(list(tmp_path.iterdir())) == 1
    client.export_bytes = content.replace(b"Blinken", b"Blinkem")  # changed text: a new file
    code, third, _ = run(["export", "--project", "7", "--output-dir", str(tmp_path)], client, capsys)
    assert code == 0 and third != first and len(list(tmp_path.iterdir())) == 2


def test_export_name_must_be_a_plain_word(capsys, label_config, tmp_path):
    client = FakeClient(label_config, export=export_bytes(gold_doc()))
    code, _, err = run(["export", "--project", "7", "--output-dir", str(tmp_path), "--name", "../x"], client, capsys)
    assert code == 1 and "--name" in err and list(tmp_path.iterdir()) == []
    code, out, _ = run(["export", "--project", "7", "--output-dir", str(tmp_path), "--name", "round_2"], client, capsys)
    assert code == 0 and Path(out.strip()).name.startswith("labelstudio-round_2-")


def test_every_prediction_of_a_task_is_validated(capsys, label_config, tmp_path):
    tasks = to_tasks([gold_doc()], as_predictions=True, model_version="m1")
    bad = json.loads(json.dumps(tasks[0]["predictions"][0]))
    bad["model_version"] = "m0"
    bad["created_at"] = "2000-01-01T00:00:00Z"  # older: not the one a reader would pick
    bad["result"][0]["value"]["end"] = 10_000
    tasks[0]["predictions"].append(bad)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(tasks))
    client = FakeClient(label_config, tasks=[SimpleNamespace(id=11, data={"text": TEXT})])
    code, _, err = run(["predictions", "--project", "7", str(path)], client, capsys)
    assert code == 1 and "outside the text" in err
    assert "predictions.create" not in client.names()
