"""The model server (`whosaid serve`), uncertainty scores, the update recipe and
`whosaid studio train|suggest`, with tiny random models and no Label Studio server
(tests/test_studio_integration.py runs the loop against a real one)."""

from __future__ import annotations

import base64
import dataclasses
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from tiny_models import build_tiny_model
from whosaid.documents import Document
from whosaid.readers.labelstudio_json import read_export, write_export
from whosaid.studio import uncertainty, updating
from whosaid.studio.server import (ModelService, create_app, authorized, parse_project_id, text_key,
                                   update_command)

SECRET = "s3cret-for-tests"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def other_model(tmp_path_factory) -> Path:
    """A second tiny model (another seed): the "new version" in swap tests."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny2") / "model", seed=1)


@pytest.fixture(scope="module")
def seed_doc(repo_root) -> Document:
    (doc,) = read_export(repo_root / "data" / "seed-gold.json")
    return doc


@pytest.fixture(scope="module")
def label_config(repo_root) -> str:
    return (repo_root / "data" / "label-config.xml").read_text(encoding="utf-8")


def client_for(service, secret=None):
    from starlette.testclient import TestClient

    return TestClient(create_app(service, secret), raise_server_exceptions=False)


@pytest.fixture
def service(tiny_model, tmp_path):
    return ModelService(tiny_model, workdir=tmp_path / "work", model_version="tiny-1")


@pytest.fixture
def http(service):
    with client_for(service) as c:
        yield c


# ------------------------------------------------------------------ uncertainty


def test_normalised_entropy_bounds():
    h = uncertainty.normalised_entropy(np.array([[1.0, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]]))
    assert h[0] == pytest.approx(0.0) and h[1] == pytest.approx(1.0)
    assert h[2] == pytest.approx(np.log(2) / np.log(3))
    assert uncertainty.normalised_entropy(np.zeros((0, 5))).shape == (0,)


def test_top_mean_takes_the_most_uncertain_slice():
    values = np.r_[np.zeros(100), np.ones(8)]
    assert uncertainty.top_mean(values) == pytest.approx(1.0)  # 5% of 108 -> 6, at least 8
    assert uncertainty.top_mean(np.array([0.2, 0.4])) == pytest.approx(0.3)  # fewer than 8: all
    assert uncertainty.top_mean(np.array([])) == 0.0


def test_article_uncertainty_orders_and_ignores_length():
    sure = np.tile([0.98, 0.01, 0.01], (50, 1))
    unsure = sure.copy()
    unsure[10:20] = [0.4, 0.3, 0.3]
    a, b = (uncertainty.article_uncertainty({"attribution": p}) for p in (sure, unsure))
    assert 0 <= a < b <= 1
    # the same hard region in an article twice as long scores about the same
    longer = np.r_[unsure, sure]
    assert uncertainty.article_uncertainty({"attribution": longer}) == pytest.approx(b, rel=0.35)


def test_predict_scored_matches_predict_documents(tiny_model, seed_doc):
    from whosaid.inference.predictor import Predictor

    predictor = Predictor.from_pretrained(tiny_model)
    docs = [Document(id="a", text=seed_doc.text), Document(id="b", text="Nobody said anything.")]
    scored = uncertainty.predict_scored(predictor, docs)
    plain = predictor.predict_documents(docs)
    assert [d.spans for d, _ in scored] == [d.spans for d in plain]
    assert all(0.0 <= s <= 1.0 for _, s in scored)


# ------------------------------------------------------------------ API helpers


@pytest.mark.parametrize("value, expected", [
    ("12.1700000000", 12), ("7", 7), (7, 7), ({"id": 3, "title": "x"}, 3),
    ("x.1", None), (None, None), (True, None), (-1, None), ({"title": "x"}, None)])
def test_parse_project_id(value, expected):
    assert parse_project_id(value) == expected


def test_text_key_follows_the_label_config(label_config):
    assert text_key(label_config, "text") == "text"
    assert text_key(label_config.replace('value="$text"', 'value="$body"'), "text") == "body"
    assert text_key("<View", "text") == "text"


def test_authorized_header_forms():
    basic = base64.b64encode(f"anyone:{SECRET}".encode()).decode()
    assert authorized(f"Bearer {SECRET}", SECRET) and authorized(f"Token {SECRET}", SECRET)
    assert authorized(f"Basic {basic}", SECRET)
    for bad in (None, "", "Bearer nope", f"Basic {base64.b64encode(b'anyone:nope').decode()}",
                "Basic !!!", f"Basic {base64.b64encode(SECRET.encode()).decode()}", SECRET):
        assert not authorized(bad, SECRET)


# ------------------------------------------------------------------ HTTP API


def test_health_and_setup(http, label_config):
    body = http.get("/health").json()
    assert body["status"] == "UP" and body["model_version"] == "tiny-1" and body["training"] is None
    assert http.get("/").status_code == 200
    r = http.post("/setup", json={"project": "3.1700000000", "schema": label_config,
                                  "hostname": "http://ls.invalid", "access_token": "tok"})
    assert r.status_code == 200 and r.json() == {"model_version": "tiny-1"}


def test_setup_refuses_a_project_lacking_labels(http, label_config):
    reduced = label_config.replace('<Label value="OPPOSE" background="#d62728"/>', "")
    r = http.post("/setup", json={"project": "3.1", "schema": reduced})
    assert r.status_code == 422 and "stance/OPPOSE" in r.json()["error"]
    r = http.post("/setup", json={"project": "3.1", "schema": "<View><Text"})
    assert r.status_code == 422 and "labeling config unusable" in r.json()["error"]


def test_predict_returns_all_layers_relations_score_and_version(http, service, seed_doc, label_config):
    tasks = [{"id": 11, "data": {"text": seed_doc.text}}, {"id": 12, "data": {"text": "  "}},
             {"id": 13, "data": {"text": "The mayor said the budget is fine."}}]
    r = http.post("/predict", json={"tasks": tasks, "label_config": label_config, "project": "1.1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "tiny-1" and len(body["results"]) == 3
    first, blank, third = body["results"]
    assert blank == {"result": [], "score": 0.0, "model_version": "tiny-1"}
    for res in (first, third):
        assert res["model_version"] == "tiny-1" and 0 < res["score"] <= 1
    layers = {r["from_name"] for r in first["result"] if r["type"] == "labels"}
    assert layers == set(service.current.predictor.schema.layer_names)
    # what the server sends is a valid Label Studio prediction of the task
    task = {"id": 11, "data": {"text": seed_doc.text}, "predictions": [first]}
    (doc,) = read_export_tasks([task])
    assert doc.spans and {s.layer for s in doc.spans} == layers
    relations = [r for r in first["result"] if r["type"] == "relation"]
    assert len(relations) == sum(len(a.speakers) * len(a.cues) + len(a.cues) * len(a.contents)
                                 for a in doc.attributions) or not doc.attributions


def read_export_tasks(tasks):
    from whosaid.readers.labelstudio_json import parse_tasks

    return parse_tasks(tasks)


def test_predict_uses_the_configured_text_key(http, label_config):
    config = label_config.replace('value="$text"', 'value="$body"')
    r = http.post("/predict", json={"tasks": [{"id": 1, "data": {"body": "She said so."}}], "label_config": config})
    assert r.status_code == 200 and len(r.json()["results"]) == 1
    r = http.post("/predict", json={"tasks": [{"id": 1, "data": {"text": "She said so."}}], "label_config": config})
    assert r.status_code == 400 and "data.body" in r.json()["error"]


@pytest.mark.parametrize("payload, status, words", [
    (b"not json", 400, "not valid JSON"),
    (b"", 400, "empty request body"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"tasks": 3}', 400, "list of Label Studio tasks"),
    (b'{"tasks": [3]}', 400, "no 'data' object"),
    (b'{"tasks": [{"id": 4, "data": {"text": 5}}]}', 400, "task 4: data.text"),
    (b'{"tasks": [], "label_config": 7}', 400, "non-empty XML"),
])
def test_bad_predict_requests_are_json_4xx(http, payload, status, words):
    r = http.post("/predict", content=payload, headers={"content-type": "application/json"})
    assert r.status_code == status and words in r.json()["error"]
    assert "Traceback" not in r.text


def test_too_many_tasks_and_unknown_routes(http, monkeypatch):
    from whosaid.studio import server

    monkeypatch.setattr(server, "MAX_TASKS", 2)
    r = http.post("/predict", json={"tasks": [{"data": {"text": "a"}}] * 3})
    assert r.status_code == 413 and "at most 2" in r.json()["error"]
    assert http.get("/nowhere").status_code == 404 and "error" in http.get("/nowhere").json()
    r = http.get("/predict")
    assert r.status_code == 405 and "error" in r.json()
    monkeypatch.setattr(server, "MAX_BODY_BYTES", 10)
    r = http.post("/predict", content=b'{"tasks": [], "pad": "xxxxxxxx"}')
    assert r.status_code == 413


def test_internal_failure_is_a_json_500_without_traceback(service, caplog):
    class Broken:
        schema = service.current.predictor.schema

        def token_probs(self, docs, progress=False):
            raise RuntimeError("boom /secret/path")

    service.current = dataclasses.replace(service.current, predictor=Broken())
    with client_for(service) as c:
        r = c.post("/predict", json={"tasks": [{"data": {"text": "He said."}}]})
    assert r.status_code == 500 and r.json() == {"error": "internal error in the model server; see its log"}
    assert "boom" in caplog.text  # logged on the server side only


def test_shared_secret(service):
    with client_for(service, SECRET) as c:
        r = c.get("/health")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        assert "error" in r.json() and SECRET not in r.text
        assert c.get("/health", headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200
        assert c.get("/health", auth=("label-studio", SECRET)).status_code == 200
        assert c.get("/health", auth=("label-studio", "wrong")).status_code == 401
        r = c.post("/predict", json={"tasks": []})
        assert r.status_code == 401


# ------------------------------------------------------------------ training from the server


def decision_for(job, model_dir: Path, accepted: bool) -> dict:
    return {"version": job.id, "accepted": accepted, "model": str(model_dir), "reasons": ["test"],
            "scores": {"metric": "micro_f1", "dev": {"base": 0.5, "candidate": 0.6 if accepted else 0.1}}}


def wait_for_job(http, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get("/health").json()["training"]
        if job and job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("training job did not finish")


def test_webhook_events(http):
    r = http.post("/webhook", json={"action": "ANNOTATION_CREATED", "project": {"id": 1}})
    assert r.status_code == 200 and r.json()["status"] == "ignored"
    assert http.post("/webhook", json={"project": {"id": 1}}).status_code == 400
    assert http.post("/webhook", json={"action": "START_TRAINING", "project": {}}).status_code == 400


def test_start_training_swaps_version_and_keeps_predicting(tiny_model, other_model, tmp_path):
    release, seen = threading.Event(), []

    def runner(job, svc):
        seen.append((job.project, job.base.version))
        assert release.wait(30)
        return decision_for(job, other_model, accepted=True)

    svc = ModelService(tiny_model, workdir=tmp_path / "work", model_version="v1", runner=runner)
    with client_for(svc) as c:
        r = c.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 5, "label_config": "<View/>"}})
        assert r.status_code == 201 and r.json()["status"] == "started"
        job_id = r.json()["job"]
        # a second request while training: busy, same job; predictions still answered by v1
        r = c.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 5}})
        assert r.status_code == 200 and r.json()["status"] == "busy" and r.json()["job"] == job_id
        r = c.post("/predict", json={"tasks": [{"data": {"text": "He said it."}}]})
        assert r.json()["results"][0]["model_version"] == "v1"
        assert c.post("/job_status", json={"job": job_id}).json()["state"] == "running"
        release.set()
        job = wait_for_job(c)
        assert job["state"] == "accepted" and job["job"] == job_id
        assert seen == [(5, "v1")]
        assert c.post("/setup", json={"project": "5.1"}).json() == {"model_version": job_id}
        r = c.post("/predict", json={"tasks": [{"data": {"text": "He said it."}}]})
        assert r.json()["results"][0]["model_version"] == job_id
        assert c.get("/versions").json() == {"versions": ["v1", job_id], "current": job_id}
        assert c.post("/job_status", json={"job": "nope"}).status_code == 404
    current = json.loads((tmp_path / "work" / "current.json").read_text())
    assert current["version"] == job_id and current["origin"] == str(tiny_model.resolve())
    # a restart with the same model and workdir serves the accepted version
    again = ModelService(tiny_model, workdir=tmp_path / "work", model_version="v1")
    assert again.current.version == job_id and again.current.model_dir == Path(current["model_dir"])
    # ... and another model in that workdir starts from itself
    other = ModelService(other_model, workdir=tmp_path / "work")
    assert other.current.model_dir == other_model.resolve()


def test_rejected_and_failed_updates_keep_the_served_version(tiny_model, other_model, tmp_path):
    outcomes = iter(["reject", "fail"])

    def runner(job, svc):
        if next(outcomes) == "reject":
            return decision_for(job, other_model, accepted=False)
        raise RuntimeError("disk full")

    svc = ModelService(tiny_model, workdir=tmp_path / "work", model_version="v1", runner=runner)
    with client_for(svc) as c:
        assert c.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 5}}).status_code == 201
        job = wait_for_job(c)
        assert job["state"] == "rejected" and "rejected" in job["message"]
        assert c.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 5}}).status_code == 201
        job = wait_for_job(c)
        assert job["state"] == "failed" and "disk full" in job["message"]
        assert c.get("/health").json()["model_version"] == "v1"
    logged = [json.loads(l) for l in (tmp_path / "work" / "updates" / "updates.jsonl").read_text().splitlines()]
    assert [e.get("failed") for e in logged] == ["RuntimeError: disk full"]


def test_export_connection_comes_from_config_or_setup(tiny_model, tmp_path, label_config):
    svc = ModelService(tiny_model, workdir=tmp_path / "w", runner=lambda j, s: {})
    assert svc.label_studio_connection(4) == (None, None)
    svc.setup({"project": "4.17", "schema": label_config, "hostname": "http://ls.invalid:8080/",
               "access_token": "abc"})
    assert svc.label_studio_connection(4) == ("http://ls.invalid:8080", "abc")
    assert svc.label_studio_connection(5) == (None, None)
    svc2 = ModelService(tiny_model, workdir=tmp_path / "w", label_studio_url="http://x.invalid",
                        label_studio_token="t2", runner=lambda j, s: {})
    svc2.setup({"project": "4.17", "hostname": "http://ls.invalid", "access_token": "abc"})
    assert svc2.label_studio_connection(4) == ("http://x.invalid", "t2")


def test_update_command_carries_no_token(tiny_model, tmp_path):
    svc = ModelService(tiny_model, workdir=tmp_path / "w", label_studio_token="tok-123",
                       overrides=["training.epochs=1"], polnear="/p", runner=lambda j, s: {})
    _, job = svc.start_training(project=9)
    cmd = update_command(job, svc)
    assert cmd[1:5] == ["-m", "whosaid", "studio", "train"] and "tok-123" not in " ".join(cmd)
    assert cmd[cmd.index("--project") + 1] == "9" and cmd[cmd.index("--set") + 1] == "training.epochs=1"
    assert cmd[cmd.index("--polnear") + 1] == "/p"


def test_training_without_label_studio_connection_fails_cleanly(tiny_model, tmp_path):
    svc = ModelService(tiny_model, workdir=tmp_path / "w")
    with client_for(svc) as c:
        c.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 2}})
        job = wait_for_job(c)
    assert job["state"] == "failed" and "LABEL_STUDIO_URL" in job["message"]


# ------------------------------------------------------------------ update recipe


def copies(doc: Document, n: int) -> list[Document]:
    """n annotated articles from the seed: same text, their own ids (and task ids)."""
    meta = {k: v for k, v in doc.metadata.items() if k not in ("task_id",)}
    return [dataclasses.replace(doc, id=f"seed-{i}", metadata={**meta, "id": f"seed-{i}"}) for i in range(n)]


def tiny_recipe(tmp_path: Path, repo_root: Path, **update) -> Path:
    seed = str(repo_root / "data" / "seed-gold.json")
    recipe = {
        "name": "update", "seed": 3,
        "model": {"init_from": "replaced", "window_length": 64, "stride": 16},
        "data": {"label_config": str(repo_root / "data" / "label-config.xml"),
                 "train": [{"path": seed, "weight": 0.5}], "dev": [{"path": seed}]},
        "training": {"max_steps": 2, "batch_size": 4, "learning_rate": 1e-3, "logging_steps": 1},
        "decoding": {"batch_size": 8},
        "update": {"holdout_fraction": 0.3, **update},
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_holdout_split_is_stable_per_task():
    docs = [SimpleNamespace(id=str(i)) for i in range(200)]
    train, held = updating.split_holdout(docs, 0.2)
    assert 20 < len(held) < 60 and len(train) + len(held) == 200
    train2, held2 = updating.split_holdout(docs + [SimpleNamespace(id=f"new{i}") for i in range(50)], 0.2)
    assert {d.id for d in held} <= {d.id for d in held2} and {d.id for d in train} <= {d.id for d in train2}
    lone = [SimpleNamespace(id=next(str(i) for i in range(1000) if updating.holdout_key(str(i)) < 0.2))]
    assert updating.split_holdout(lone, 0.2) == (lone, [])  # never everything held out


def test_decide_rules():
    u = updating.UpdateSection()
    m = lambda f: {"layers": {"attribution": {"micro": {"f1": f}}}}  # noqa: E731
    assert updating.decide({"dev": m(0.70), "heldout": m(0.4)}, {"dev": m(0.695), "heldout": m(0.5)}, u)[0]
    ok, reasons, scores = updating.decide({"dev": m(0.70), "heldout": m(0.4)},
                                          {"dev": m(0.68), "heldout": m(0.5)}, u)
    assert not ok and "worse on the base dev data" in " ".join(reasons)
    assert scores["dev"] == {"base": 0.70, "candidate": 0.68, "tolerance": 0.01}
    assert not updating.decide({"heldout": m(0.5)}, {"heldout": m(0.49)}, u)[0]
    assert not updating.decide({}, {}, u)[0]
    with pytest.raises(updating.UpdateError, match="not among the metrics"):
        updating.decide({"dev": m(1)}, {"dev": m(1)}, updating.UpdateSection(metric="nope"))


def test_recipe_loading(tmp_path, repo_root, tiny_model):
    from whosaid.errors import ConfigError

    path = tiny_recipe(tmp_path, repo_root)
    cfg, u = updating.load_recipe(path, ["update.new_weight=2", "training.max_steps=3"], init_from=tiny_model)
    assert u.new_weight == 2 and u.holdout_fraction == 0.3 and cfg.training.max_steps == 3
    assert cfg.model.init_from == str(tiny_model)
    with pytest.raises(ConfigError, match="model.init_from"):  # replaced, but "replaced" is no model
        updating.load_recipe(path)
    with pytest.raises(ConfigError, match="update.nope"):
        updating.load_recipe(path, ["update.nope=1"], init_from=tiny_model)
    with pytest.raises(ConfigError, match="holdout_fraction"):
        updating.load_recipe(path, ["update.holdout_fraction=1"], init_from=tiny_model)
    # the shipped recipe parses (its files are not checked: PolNeAR may be absent here)
    cfg, u = updating.load_recipe(repo_root / "configs" / "update.yaml", init_from=tiny_model, check_files=False)
    assert cfg.model.init_from == str(tiny_model) and u.dev_tolerance == 0.01


class ExportClient:
    """The slice of label-studio-sdk an export uses: a project and one ready JSON export."""

    def __init__(self, label_config: str, export: bytes):
        ready = lambda **kw: SimpleNamespace(id=3, status="completed")  # noqa: E731
        self.projects = SimpleNamespace(
            get=lambda id: SimpleNamespace(id=id, label_config=label_config),
            exports=SimpleNamespace(create=ready, get=ready, download=lambda **kw: iter([export])))


def test_train_from_project_end_to_end(tmp_path, repo_root, tiny_model, seed_doc, label_config, capsys,
                                       monkeypatch):
    """`whosaid studio train --project`: export (atomic, into WORKDIR/exports), split, train,
    evaluate both models, decide, log."""
    from whosaid.cli import studio as studio_cli
    from whosaid.readers.labelstudio_json import to_tasks

    monkeypatch.setenv("LABEL_STUDIO_URL", "http://ls.invalid")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "token-not-printed")
    client = ExportClient(label_config, json.dumps(to_tasks(copies(seed_doc, 6))).encode())
    recipe = tiny_recipe(tmp_path, repo_root)
    work = tmp_path / "work"
    run_dir = work / "updates" / "update-test"
    code = studio_cli.main(["train", "--project", "7", "--model", str(tiny_model), "--config", str(recipe),
                            "--run-dir", str(run_dir), "--workdir", str(work)], client_factory=lambda conn: client)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == str(run_dir) and "token-not-printed" not in out + err
    (export,) = (work / "exports").glob("labelstudio-7-*.json")
    decision = json.loads((run_dir / "decision.json").read_text())
    assert decision["version"] == "update-test" and isinstance(decision["accepted"], bool)
    assert decision["source"] == {"project": 7, "export": export.name}
    assert decision["annotated_tasks"] == 6
    assert decision["train_tasks"] + len(decision["heldout_tasks"]) == 6
    assert set(decision["timings_s"]) == {"prepare_s", "train_s", "evaluate_s", "total_s"}
    assert decision["scores"]["dev"]["base"] is not None and decision["scores"]["dev"]["candidate"] is not None
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert set(evaluation["candidate"]) >= {"dev"}
    assert (run_dir / "model" / "config.json").is_file() and not (run_dir / "checkpoints").exists()
    held = [d.id for d in read_export(run_dir / "annotations-heldout.json")] if decision["heldout_tasks"] else []
    trained = [d.id for d in read_export(run_dir / "annotations-train.json")]
    assert sorted(held) == sorted(decision["heldout_tasks"]) and not set(held) & set(trained)
    (logged,) = [json.loads(l) for l in (run_dir.parent / "updates.jsonl").read_text().splitlines()]
    assert logged["version"] == "update-test"
    assert ("accepted" if decision["accepted"] else "rejected") in err
    # the base model's dev metrics were cached for the next update
    assert len(list((work / "cache").glob("dev-metrics-*.json"))) == 1
    # a run directory is never reused (no server needed with --annotations)
    code = studio_cli.main(["train", "--annotations", str(export), "--model", str(tiny_model),
                            "--config", str(recipe), "--run-dir", str(run_dir)])
    assert code == 1 and "not empty" in capsys.readouterr().err


def test_update_refuses_export_without_annotations(tmp_path, repo_root, tiny_model, seed_doc, capsys):
    from whosaid.cli import studio as studio_cli

    bare = [Document(id="x", text=seed_doc.text)]
    export = write_export(bare, tmp_path / "export.json")
    code = studio_cli.main(["train", "--annotations", str(export), "--model", str(tiny_model),
                            "--config", str(tiny_recipe(tmp_path, repo_root)), "--workdir", str(tmp_path / "w")])
    err = capsys.readouterr().err
    assert code == 1 and "no task has a (non-skipped) annotation" in err and "Traceback" not in err


def test_train_request_runs_the_real_update_process(tmp_path, repo_root, tiny_model, seed_doc):
    """Label Studio's /train call with annotated tasks -> `whosaid studio train` in a child
    process -> decision -> the new version is served if accepted."""
    from whosaid.readers.labelstudio_json import to_tasks

    svc = ModelService(tiny_model, workdir=tmp_path / "work", model_version="v1",
                       recipe=tiny_recipe(tmp_path, repo_root, dev_tolerance=1.0, heldout_tolerance=1.0))
    tasks = to_tasks(copies(seed_doc, 3))
    with client_for(svc) as c:
        r = c.post("/train", json={"annotations": tasks, "project": "8.1"})
        assert r.status_code == 201, r.text
        job = wait_for_job(c, timeout=600)
        assert job["state"] == "accepted", job
        assert c.get("/health").json()["model_version"] == job["job"]
        r = c.post("/predict", json={"tasks": [{"data": {"text": seed_doc.text}}]})
        assert r.json()["results"][0]["model_version"] == job["job"]
    assert (Path(job["run_dir"]) / "decision.json").is_file()
    assert (tmp_path / "work" / "updates" / f"{job['job']}.log").is_file()
    assert len(list((tmp_path / "work" / "exports").glob("labelstudio-8-*.json"))) == 1


# ------------------------------------------------------------------ suggestions and CLI


class SuggestClient:
    def __init__(self, tasks):
        self.projects = SimpleNamespace(get=lambda id: SimpleNamespace(id=id, label_config="<View/>"))
        self.tasks = SimpleNamespace(list=lambda **kw: list(tasks))


def task(i, text="He said so.", annotations=0, cancelled=0, preds=()):
    return SimpleNamespace(id=i, data={"text": text, "id": f"a{i}"}, total_annotations=annotations,
                           cancelled_annotations=cancelled, annotations=[],
                           predictions=[SimpleNamespace(id=pid, score=s, model_version=v) for pid, s, v in preds])


def test_suggest_from_stored_prediction_scores():
    tasks = [task(1, preds=[(1, 0.2, "v1"), (9, 0.9, "v2")]), task(2, preds=[(2, 0.5, "v1")]),
             task(3, annotations=1, preds=[(3, 0.99, "v1")]), task(4, cancelled=1, preds=[(4, 0.98, "v1")]),
             task(5), task(6, preds=[(6, 0.7, "v2")])]
    rows, unranked = uncertainty.suggest_tasks(SuggestClient(tasks), 1, k=2)
    assert [(r["task"], r["score"], r["model_version"]) for r in rows] == [(1, 0.9, "v2"), (6, 0.7, "v2")]
    assert rows[0]["id"] == "a1" and rows[0]["title"] == "He said so." and unranked == 1


def test_suggest_with_a_model(tiny_model, seed_doc):
    from whosaid.inference.predictor import Predictor

    predictor = Predictor.from_pretrained(tiny_model)
    tasks = [task(1, text=seed_doc.text), task(2, text="Nobody spoke."), task(3, text=" "), task(4, annotations=2)]
    rows, unranked = uncertainty.suggest_tasks(SuggestClient(tasks), 1, k=5, predictor=predictor)
    assert sorted(r["task"] for r in rows) == [1, 2] and unranked == 1
    assert rows[0]["score"] >= rows[1]["score"]


def test_serve_refuses_open_host_without_secret(capsys, tiny_model, monkeypatch):
    from whosaid.cli import serve

    monkeypatch.delenv("WHOSAID_SERVE_TOKEN", raising=False)
    assert serve.main(["--model", str(tiny_model), "--host", "0.0.0.0"]) == 2
    assert "shared secret" in capsys.readouterr().err
    assert serve.main(["--model", str(tiny_model), "--config", "/nonexistent.yaml"]) == 2
    assert "recipe not found" in capsys.readouterr().err
