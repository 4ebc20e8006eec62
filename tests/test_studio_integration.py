"""The annotation loop against a real Label Studio server started by the test.

create project -> import the seed article -> upload predictions -> an annotator's
annotation (through the API) -> `whosaid studio export` -> read back -> train the
smoke model on the export -> evaluate it.

The server comes from $WHOSAID_LS_BIN, else .venv-ls/bin/label-studio, else PATH
(install: `python3 -m venv .venv-ls && .venv-ls/bin/pip install label-studio==1.23.2`).
Without one the tests are skipped, unless $CI is set: CI must run them. Skip them
locally with `-m "not labelstudio"`. Cold start of a fresh server: ~50 s on 2 idle
cores (migrations), several minutes on a loaded machine.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from whosaid.cli import studio
from whosaid.documents import Document
from whosaid.readers.labelstudio_json import read_export, to_tasks
from whosaid.readers.seeds import read_seed
from whosaid.schema import STANCE, Schema

pytestmark = pytest.mark.labelstudio

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_6e1d9f0e23a31894.txt"
SEED_GOLD = REPO / "data" / "seed-gold.json"


def _server_module():
    """scripts/labelstudio_server.py (a script, not part of the package)."""
    if "labelstudio_server" in sys.modules:
        return sys.modules["labelstudio_server"]
    spec = importlib.util.spec_from_file_location("labelstudio_server",
                                                  REPO / "scripts" / "labelstudio_server.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def ls_server(request, tmp_path_factory):
    """A fresh server on 127.0.0.1 for the whole session, stopped by PID however it ends."""
    server = _server_module()
    executable = server.find_executable()
    if executable is None:
        reason = ("label-studio not found ($WHOSAID_LS_BIN, .venv-ls/bin/label-studio or PATH); "
                  "install: python3 -m venv .venv-ls && .venv-ls/bin/pip install label-studio==1.23.2")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    handle = server.start_server(executable, tmp_path_factory.mktemp("label-studio"))
    request.addfinalizer(handle.stop)
    return handle


@pytest.fixture
def studio_env(ls_server, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.token)
    return ls_server


def run_studio(argv: list[str], capsys, token: str) -> tuple[int, str, str]:
    code = studio.main(argv)
    out, err = capsys.readouterr()
    assert token not in out and token not in err
    assert "Traceback" not in err
    return code, out.strip(), err


def gold_document() -> Document:
    """The gold seed article (data/seed-gold.json), else a small hand-made one on the seed text."""
    if SEED_GOLD.is_file():
        (doc,) = read_export(SEED_GOLD)
        return doc
    from whosaid.documents import Span

    doc = read_seed(SEED)
    start = doc.text.index("Blinken")
    said = doc.text.index("said")
    return Document(id=doc.id, text=doc.text, metadata=doc.metadata,
                    layers=frozenset({"attribution", "figure", "stance"}),
                    spans=(Span("attribution", "SPEAKER", start, start + 7),
                           Span("attribution", "CUE", said, said + 4),
                           Span(STANCE, "NEUTRAL", said, said + 4)))


def span_keys(doc: Document) -> set:
    return {s.key for s in doc.spans}


def attribution_keys(doc: Document) -> set:
    return {(tuple(s.key for s in a.speakers), tuple(s.key for s in a.cues),
             tuple(s.key for s in a.contents), a.stance) for a in doc.attributions}


def test_annotation_loop(studio_env, capsys, tmp_path):
    token = studio_env.token
    gold = gold_document()
    assert read_seed(SEED).text == gold.text  # the task text is what the gold offsets index

    # 1. project from data/label-config.xml; a second call updates the same project.
    code, out, _ = run_studio(["project", "--title", "whosaid integration"], capsys, token)
    assert code == 0
    project = int(out)
    code, out, _ = run_studio(["project", "--title", "whosaid integration"], capsys, token)
    assert (code, int(out)) == (0, project)
    assert run_studio(["check", "--project", str(project)], capsys, token)[0] == 0

    # 2. import the seed article; importing it again adds nothing.
    assert run_studio(["import", "--project", str(project), str(SEED)], capsys, token)[:2] == (0, "1")
    assert run_studio(["import", "--project", str(project), str(SEED)], capsys, token)[:2] == (0, "0")

    # 3. pre-annotations: the gold spans without the stance layer, as a model would send them.
    predicted = dataclasses.replace(
        gold, id=gold.metadata.get("id", gold.id), spans=tuple(s for s in gold.spans if s.layer != STANCE),
        attributions=tuple(dataclasses.replace(a, stance=None, stance_score=None) for a in gold.attributions),
        layers=gold.layers - {STANCE}, metadata={k: v for k, v in gold.metadata.items()
                                                if k not in ("annotation", "task_id")})
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps(to_tasks([predicted], as_predictions=True, model_version="test")))
    assert run_studio(["predictions", "--project", str(project), str(predictions)], capsys, token)[:2] == (0, "1")
    assert run_studio(["predictions", "--project", str(project), str(predictions)], capsys, token)[:2] == (0, "0")

    # 4. an annotator corrects the pre-annotation: the full gold result, through the API.
    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=studio_env.url, api_key=token)
    (task,) = client.tasks.list(project=project, fields="all")
    assert [p.model_version for p in task.predictions] == ["test"]
    gold_result = to_tasks([gold])[0]["annotations"][0]["result"]
    client.annotations.create(id=task.id, result=gold_result)

    # 5. export into a fresh data dir: a new, validated file.
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    code, out, err = run_studio(["export", "--project", str(project), "--output-dir", str(data_dir)],
                                capsys, token)
    assert code == 0, err
    export = Path(out)
    assert export.parent == data_dir and export.name.startswith(f"labelstudio-{project}-")
    assert [p.name for p in data_dir.iterdir()] == [export.name]
    assert token.encode() not in export.read_bytes()

    # 6. read back: the annotation wins over the prediction and equals what was annotated.
    (doc,) = read_export(export)
    assert doc.metadata["annotation"]["kind"] == "annotation"
    assert doc.text == gold.text
    assert span_keys(doc) == span_keys(gold)
    assert attribution_keys(doc) == attribution_keys(gold)
    (raw,) = json.loads(export.read_text())
    (pred,) = raw["predictions"]  # full predictions, not ids
    assert pred["model_version"] == "test"
    assert {r["from_name"] for r in pred["result"] if r["type"] == "labels"} == gold.layers - {STANCE}

    # 7. train the smoke model on the export, evaluate it, check the project against it.
    train_py, smoke = REPO / "train.py", REPO / "configs" / "smoke.yaml"
    if not (train_py.is_file() and smoke.is_file() and (REPO / "evaluate.py").is_file()):
        pytest.skip("train.py / evaluate.py / configs/smoke.yaml not in the checkout yet: "
                    "the train-and-evaluate step of the loop is not run")
    config = yaml.safe_load(smoke.read_text())
    config["data"]["train"] = [{"path": str(export)}]
    config["data"]["dev"] = [{"path": str(export)}]
    config["data"]["label_config"] = str(REPO / "data" / "label-config.xml")
    config_path = tmp_path / "smoke-from-export.yaml"
    config_path.write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"
    subprocess.run([sys.executable, str(train_py), "--config", str(config_path), "--output-dir", str(run_dir)],
                   cwd=REPO, check=True, timeout=900)
    metrics = tmp_path / "metrics.json"
    subprocess.run([sys.executable, str(REPO / "evaluate.py"), "--model", str(run_dir / "model"),
                    "--data", str(export), "--output", str(metrics)], cwd=REPO, check=True, timeout=600)
    assert json.loads(metrics.read_text())  # metrics were computed on the exported annotations
    code, _, err = run_studio(["check", "--project", str(project), "--model", str(run_dir / "model")],
                              capsys, token)
    assert code == 0, err


def test_check_refuses_project_lacking_labels(studio_env, capsys, tmp_path):
    token = studio_env.token
    full = (REPO / "data" / "label-config.xml").read_text()
    reduced = tmp_path / "reduced.xml"
    reduced.write_text(full.replace('<Label value="OPPOSE" background="#d62728"/>', ""))
    assert Schema.from_label_config(reduced).layers[STANCE] == ("SUPPORT", "NEUTRAL")
    code, out, _ = run_studio(["project", "--title", "reduced", "--label-config", str(reduced)], capsys, token)
    assert code == 0
    project = out
    code, out, err = run_studio(["check", "--project", project], capsys, token)
    assert code == 1 and "label stance/OPPOSE" in err and out == ""
    # The same refusal guards an upload: nothing reaches the project.
    predictions = tmp_path / "p.json"
    predictions.write_text(json.dumps(to_tasks([read_seed(SEED)], as_predictions=True)))
    code, _, err = run_studio(["predictions", "--project", project, str(predictions)], capsys, token)
    assert code == 1 and "label stance/OPPOSE" in err


def test_bad_token_is_a_clean_error(studio_env, capsys, monkeypatch):
    bad = "0" * 40
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", bad)
    code, out, err = run_studio(["check", "--project", "1"], capsys, bad)
    assert code == 1 and out == "" and "refused the API token (HTTP 401)" in err
    assert err.count("\n") == 1


def test_missing_project_is_a_clean_error(studio_env, capsys, tmp_path):
    code, out, err = run_studio(["export", "--project", "999999", "--output-dir", str(tmp_path)],
                                capsys, studio_env.token)
    assert code == 1 and out == "" and "project 999999 not found" in err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ the live loop: `whosaid serve`


@dataclasses.dataclass
class ModelServer:
    url: str
    secret: str = dataclasses.field(repr=False)
    workdir: Path
    process: subprocess.Popen
    log: Path

    def get(self, path: str) -> dict:
        import httpx

        r = httpx.get(self.url + path, headers={"Authorization": f"Bearer {self.secret}"}, timeout=30)
        r.raise_for_status()
        return r.json()


def start_model_server(model: Path, workdir: Path, recipe: Path, ls, timeout: float = 300.0) -> ModelServer:
    """`whosaid serve` in its own process, with a shared secret, exporting from `ls`."""
    import secrets
    import time

    import httpx

    port = _server_module().free_port()
    secret = secrets.token_hex(12)
    env = {**os.environ, "LABEL_STUDIO_URL": ls.url, "LABEL_STUDIO_API_KEY": ls.token, "WHOSAID_SERVE_TOKEN": secret}
    log = workdir.parent / "model-server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "whosaid", "serve", "--model", str(model),
                                    "--port", str(port), "--workdir", str(workdir), "--config", str(recipe)],
                                   cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = ModelServer(f"http://127.0.0.1:{port}", secret, workdir, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"whosaid serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            server.get("/health")
            return server
        except httpx.HTTPError:
            time.sleep(0.5)
    _server_module().stop_process(process)
    raise TimeoutError(f"whosaid serve did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def tiny_update_recipe(path: Path) -> Path:
    """The update recipe at test size: 2 steps on the new annotations plus the seed article as
    replay, dev = the seed article; the gate is opened wide (the test is about the loop)."""
    path.write_text(yaml.safe_dump({
        "name": "update", "seed": 3,
        "model": {"init_from": "replaced-by-the-served-model", "window_length": 64, "stride": 16},
        "data": {"label_config": str(REPO / "data" / "label-config.xml"),
                 "train": [{"path": str(SEED_GOLD), "weight": 0.5}], "dev": [{"path": str(SEED_GOLD)}]},
        "training": {"max_steps": 2, "batch_size": 4, "learning_rate": 1.0e-3, "logging_steps": 1},
        "decoding": {"batch_size": 8},
        "update": {"dev_tolerance": 1.0, "heldout_tolerance": 1.0},
    }))
    return path


def test_model_server_loop(studio_env, capsys, tmp_path):
    """Connect `whosaid serve` to a project; Label Studio asks it for pre-annotations when a
    task is opened; an annotation; "Start Training"; the new version is served and appears
    on new predictions; `studio suggest` ranks by the served scores."""
    import time

    from label_studio_sdk import LabelStudio

    from tiny_models import build_tiny_model
    from whosaid.readers.labelstudio_json import document_from_task

    token = studio_env.token
    model = build_tiny_model(tmp_path / "seed-run" / "model")
    workdir = tmp_path / "studio"
    server = start_model_server(model, workdir, tiny_update_recipe(tmp_path / "update.yaml"), studio_env)
    try:
        code, out, _ = run_studio(["project", "--title", "whosaid model server"], capsys, token)
        assert code == 0
        project = int(out)
        assert run_studio(["import", "--project", str(project), str(SEED)], capsys, token)[:2] == (0, "1")
        client = LabelStudio(base_url=studio_env.url, api_key=token)
        # connect the model (Label Studio checks /health and /setup, with basic auth)
        ml = client.ml.create(project=project, url=server.url, title="whosaid", auth_method="BASIC_AUTH",
                              basic_auth_user="label-studio", basic_auth_pass=server.secret)
        v1 = server.get("/health")["model_version"]

        # an annotator opens the task: Label Studio asks the model server for predictions
        (task,) = client.tasks.list(project=project)
        client.tasks.get(id=str(task.id))
        (task,) = client.tasks.list(project=project, fields="all")
        (pred,) = task.predictions
        assert pred.model_version == v1 and 0 < pred.score <= 1
        regions = [r for r in pred.result if r["type"] == "labels"]
        schema = Schema.from_label_config(REPO / "data" / "label-config.xml")
        assert regions and {r["from_name"] for r in regions} <= set(schema.layers)
        doc = document_from_task({"data": {"text": task.data["text"]}, "predictions": [{"result": pred.result}]},
                                 schema, index=0)
        assert {s.key for s in doc.spans} == {(r["from_name"], r["value"]["labels"][0], r["value"]["start"],
                                              r["value"]["end"]) for r in regions}

        # the annotator's annotation, then "Start Training" (Label Studio -> /webhook START_TRAINING)
        client.annotations.create(id=task.id, result=to_tasks([gold_document()])[0]["annotations"][0]["result"])
        client.ml.train(id=ml.id)
        deadline = time.monotonic() + 900
        while True:
            job = server.get("/health")["training"]
            if job is not None and job["state"] != "running":
                break
            assert time.monotonic() < deadline, "the update did not finish"
            assert server.process.poll() is None, server.log.read_text()[-3000:]
            time.sleep(1)
        assert job["state"] == "accepted", (job, server.log.read_text()[-3000:])
        v2 = server.get("/health")["model_version"]
        assert v2 == job["job"] != v1
        decision = json.loads((workdir / "updates" / v2 / "decision.json").read_text())
        assert decision["accepted"] and decision["source"]["project"] == project
        assert decision["annotated_tasks"] == 1
        assert len(list((workdir / "exports").glob(f"labelstudio-{project}-*.json"))) == 1
        assert token.encode() not in (workdir / "updates" / f"{v2}.log").read_bytes()

        # a new task gets the new version's predictions
        client.projects.import_tasks(id=project, request=[{"data": {"text": "The mayor said the budget "
                                                                             "would grow by 4 percent."}}])
        (new,) = [t for t in client.tasks.list(project=project) if t.id != task.id]
        client.tasks.get(id=str(new.id))
        (new,) = [t for t in client.tasks.list(project=project, fields="all") if t.id == new.id]
        assert [p.model_version for p in new.predictions] == [v2]

        # the annotated task is not suggested; the new one is, with its served score
        code, out, err = run_studio(["suggest", "--project", str(project), "-k", "5"], capsys, token)
        assert code == 0, err
        (row,) = out.splitlines()[1:]
        assert row.split("\t")[:3] == [str(new.id), f"{new.predictions[0].score:.4f}", v2]
    finally:
        _server_module().stop_process(server.process)
