"""The driver of a batch job: inputs -> shards -> Ray actors -> shard files + manifest.

Shards are consecutive runs of `shard_size` articles of the sorted input list, so
the same inputs always give the same shards. Each worker (a Ray actor holding the
model) has at most one shard at a time; the driver writes a finished shard's file
atomically, then the manifest. A rerun skips the shards the manifest lists as
done (checking that they still hold the same article ids) and recomputes the
ones that were in progress, at most one per worker.

A worker process that dies is restarted by Ray (`max_restarts`) and its shard
retried (`max_task_retries`); results come back to the driver only once per
shard, so nothing is written twice. A shard that still fails after that is left
undone (the run exits 1; a rerun tries it again).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

from whosaid.batch.inputs import InputError, estimate_records, expand_inputs, fingerprint, iter_records
from whosaid.batch.manifest import Manifest
from whosaid.batch.output import OUTPUT_FORMATS, part_name, write_part
from whosaid.documents import Document
from whosaid.errors import ModelLoadError, WhosaidError

DEFAULT_SHARD_SIZE = 100
#: Articles longer than this many characters go to errors.jsonl ("too long"): one
#: such article would hold a worker for many minutes and most of its memory.
DEFAULT_MAX_CHARS = 1_000_000
#: Ray restarts a dead worker process this many times (and retries its shard).
MAX_RESTARTS = 3
#: A shard whose worker is lost for good is handed to a fresh worker this many times.
SHARD_ATTEMPTS = 3
#: Test hooks read from the driver's environment and handed to the workers:
#: WHOSAID_BATCH_CRASH_ONCE=PATH: the first worker to reach the middle of a shard creates
#: PATH and exits abruptly (a killed worker process); WHOSAID_BATCH_DELAY=SECONDS: each
#: shard takes that much longer (a job slow enough to interrupt).
TEST_HOOKS = {"crash_once": "WHOSAID_BATCH_CRASH_ONCE", "delay": "WHOSAID_BATCH_DELAY"}

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass
class BatchOptions:
    model: str
    output: str
    inputs: Sequence[str]
    workers: int | None = None  # default: every CPU of this machine (or of the cluster) / threads
    address: str | None = None  # None: start Ray on this machine
    backend: str = "torch"
    quantize: bool = False
    threads: int = 1
    batch_size: int | None = None
    stride: int | None = None
    format: str = "jsonl"
    shard_size: int = DEFAULT_SHARD_SIZE
    max_chars: int = DEFAULT_MAX_CHARS
    progress: bool = True


@dataclass
class Shard:
    index: int
    docs: list[Document] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    words: int = 0

    def ids_sha256(self) -> str:
        h = hashlib.sha256()
        for d in self.docs:
            h.update(d.id.encode("utf-8", "surrogatepass") + b"\n")
        h.update(b"\0")
        for e in self.errors:
            h.update(e.id.encode("utf-8", "surrogatepass") + b"\n")
        return h.hexdigest()


def iter_shards(items: Iterator[Document | InputError], shard_size: int, max_chars: int) -> Iterator[Shard]:
    """Consecutive shards of `shard_size` articles; an input error (or a too long
    article) goes with the shard being filled when it is met."""
    shard = Shard(0)
    for item in items:
        if isinstance(item, Document) and len(item.text) > max_chars:
            item = InputError(item.id, f"too long: {len(item.text)} characters (--max-chars {max_chars})",
                              str(item.metadata.get("source")), item.metadata.get("line"), item.metadata.get("row"))
        if isinstance(item, InputError):
            shard.errors.append(item)
            continue
        shard.docs.append(item)
        shard.words += len(item.text.split())
        if len(shard.docs) == shard_size:
            yield shard
            shard = Shard(shard.index + 1)
    if shard.docs or shard.errors or shard.index == 0:
        yield shard


def _clean(value):
    """A string that can be written as UTF-8 (a lone surrogate becomes an escape)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _model_identity(opts: BatchOptions) -> dict:
    from whosaid.batch.worker import model_hash

    model_dir = Path(opts.model)
    return {"path": os.path.abspath(model_dir), "version": model_dir.resolve().parent.name + "/" + model_dir.name,
            "sha256": model_hash(model_dir), "backend": opts.backend, "quantize": opts.quantize,
            "stride": opts.stride}


def _check_model(model_dir: str) -> None:
    """The checks of `load_config` without importing torch: ModelLoadError before Ray starts."""
    import json

    from whosaid.files import check_model_dir

    path = check_model_dir(model_dir)
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path / 'config.json'}: {type(exc).__name__}: {exc}") from None
    if not isinstance(config, dict) or config.get("model_type") != "whosaid" or not config.get("schema") \
            or not config.get("encoder_config"):
        raise ModelLoadError(f"{path} does not hold a whosaid model (config.json lacks schema/encoder)")


def _output_problem(outdir: Path, model_dir: Path, files) -> str | None:
    """Why OUTDIR cannot hold this job's output (before any work), or None."""
    target = outdir.resolve()
    if target.exists() and not target.is_dir():
        return "exists and is not a directory"
    model = model_dir.resolve()
    if target == model or model in target.parents:
        return f"lies inside the model directory {model_dir}; write the output elsewhere"
    for f in files:
        if f.kind != "error" and target in Path(f.key).resolve().parents:
            return f"holds an input ({f.path}); write the output elsewhere"
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = target / ".whosaid-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"cannot write there: {exc.strerror or exc}"
    return None


def _start_ray(opts: BatchOptions, cpus: int) -> bool:
    """Connect to (or start) Ray; True when this call started the connection."""
    import ray

    if ray.is_initialized():
        return False
    quiet = dict(log_to_driver=False, logging_level=logging.ERROR)
    for attempt in (1, 2):  # a local start gives up after 30 s on a machine too busy to answer: try once more
        try:
            if opts.address:
                ray.init(address=opts.address, **quiet)
            else:
                ray.init(num_cpus=cpus, include_dashboard=False, **quiet)
            return True
        except Exception as exc:
            ray.shutdown()
            if opts.address or attempt == 2:
                where = f"the Ray cluster at {opts.address}" if opts.address else "Ray on this machine"
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise WhosaidError(f"cannot start or reach {where}: {detail}") from None
    return True


class _Pool:
    """The Ray actors of a job and the one shard each one holds."""

    def __init__(self, remote_cls, args: tuple, n: int):
        self.remote_cls, self.args = remote_cls, args
        self.actors = [remote_cls.remote(*args) for _ in range(n)]

    def ready(self) -> list[dict]:
        import ray

        return ray.get([a.ready.remote() for a in self.actors])

    def close(self) -> None:
        import ray

        for actor in self.actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:
                pass

    def replace(self, actor):
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:
            pass
        new = self.remote_cls.remote(*self.args)
        self.actors[self.actors.index(actor)] = new
        return new


def _model_error(exc: BaseException) -> str:
    """The model loading error inside a Ray actor-creation failure."""
    cause = exc
    for attr in ("cause", "error"):
        inner = getattr(cause, attr, None)
        if isinstance(inner, BaseException):
            cause = inner
    text = str(cause).strip().splitlines()
    return text[-1] if text else type(cause).__name__


def run_batch(opts: BatchOptions) -> int:
    """Run (or continue) a batch job; the exit status (0 ok, 1 records or shards
    failed, 2 usage/configuration error before any work)."""
    outdir = Path(opts.output)
    if opts.format not in OUTPUT_FORMATS:
        _say(f"error: unknown --format {opts.format!r} (one of {', '.join(OUTPUT_FORMATS)})")
        return EXIT_USAGE
    if opts.shard_size < 1 or opts.max_chars < 1 or opts.threads < 1 or (opts.workers is not None and opts.workers < 1):
        _say("error: --workers, --threads, --shard-size and --max-chars must be at least 1")
        return EXIT_USAGE
    try:
        _check_model(opts.model)
        files = expand_inputs(opts.inputs)
    except ModelLoadError as exc:
        _say(f"error: cannot use model {opts.model}: {exc}")
        return EXIT_USAGE
    except WhosaidError as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    if not files:
        _say("error: no inputs (give .txt, .jsonl or .parquet files, directories or globs)")
        return EXIT_USAGE
    problem = _output_problem(outdir, Path(opts.model), files)
    if problem:
        _say(f"error: --output {outdir}: {problem}")
        return EXIT_USAGE
    identity = {"model": _model_identity(opts),
                "inputs": {"specs": list(opts.inputs), "files": len(files), "fingerprint": fingerprint(files)},
                "format": opts.format, "shard_size": opts.shard_size, "max_chars": opts.max_chars}
    try:
        manifest = Manifest.load(outdir)
    except WhosaidError as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    if manifest is None:
        if outdir.is_dir() and any(outdir.glob("part-*")):
            _say(f"error: {outdir} holds part files but no manifest: use a new --output directory")
            return EXIT_USAGE
        manifest = Manifest.create(outdir, identity)
    else:
        problem = manifest.mismatch(identity)
        if problem:
            _say(f"error: {problem}")
            return EXIT_USAGE
        if manifest.data["complete"]:
            return _finish(manifest, outdir, failed_shards=[], already=True)
    return _run(opts, outdir, files, manifest, identity)


def _run(opts: BatchOptions, outdir: Path, files, manifest: Manifest, identity: dict) -> int:
    import ray
    from tqdm.auto import tqdm

    from whosaid.batch.worker import ShardWorker
    from whosaid.inference import DEFAULT_BATCH_SIZE

    if opts.backend == "onnx":  # export once here rather than racing in every worker
        from whosaid.model.onnx import export_onnx, is_current, onnx_path

        path = onnx_path(opts.model, opts.quantize)
        if not is_current(path, Path(opts.model)):
            _say(f"exporting {path} (first use or weights changed) ...")
            export_onnx(opts.model, quantize=opts.quantize)

    done_before = len(manifest.shards)
    interrupted = sorted(i for i in manifest.data.get("in_progress", []) if not manifest.is_done(i))
    if done_before or interrupted:
        _say(f"resuming {outdir}: {done_before} shard(s) done ({manifest.data['totals']['articles']} articles); "
             f"{len(interrupted)} interrupted shard(s) to recompute")
    run = {"started": _now(), "address": opts.address, "workers": None, "threads": opts.threads,
           "recomputed": interrupted, "worker_restarts": 0, "shard_failures": [], "finished": False}
    manifest.data["runs"].append(run)
    outdir.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    local_cpus = max(1, (opts.workers or max(1, (os.cpu_count() or 1) // opts.threads)) * opts.threads)
    try:
        owned = _start_ray(opts, local_cpus)
    except WhosaidError as exc:
        _say(f"error: {exc}")
        manifest.data["runs"].pop()
        return EXIT_FAILED
    pool = None
    try:
        run["ray_start_s"] = round(time.perf_counter() - t0, 3)
        cluster_cpus = int(ray.cluster_resources().get("CPU", 0))
        workers = opts.workers or max(1, cluster_cpus // opts.threads)
        if workers * opts.threads > cluster_cpus:
            _say(f"error: {workers} worker(s) x {opts.threads} thread(s) need {workers * opts.threads} CPUs; "
                 f"the Ray cluster has {cluster_cpus}")
            manifest.data["runs"].pop()
            return EXIT_USAGE
        run["workers"] = workers
        predictor_options = dict(backend=opts.backend, quantize=opts.quantize, threads=opts.threads,
                                 batch_size=opts.batch_size or DEFAULT_BATCH_SIZE, stride=opts.stride)
        remote = ray.remote(num_cpus=opts.threads, max_restarts=MAX_RESTARTS,
                            max_task_retries=MAX_RESTARTS)(ShardWorker)
        hooks = {key: os.environ[env] for key, env in TEST_HOOKS.items() if os.environ.get(env)}
        pool = _Pool(remote, (identity["model"]["path"], predictor_options, hooks), workers)
        t1 = time.perf_counter()
        try:
            infos = pool.ready()
        except ray.exceptions.RayError as exc:
            _say(f"error: cannot use model {opts.model}: {_model_error(exc)}")
            manifest.data["runs"].pop()
            return EXIT_USAGE
        run["workers_ready_s"] = round(time.perf_counter() - t1, 3)
        run["model_load_s"] = round(max(i["load_s"] for i in infos), 3)
        run["model_version"] = infos[0]["model_version"]
        manifest.data["model"]["version"] = infos[0]["model_version"]
        pids = {a: i["pid"] for a, i in zip(pool.actors, infos)}
        return _dispatch(opts, outdir, files, manifest, run, pool, pids, tqdm)
    finally:
        if owned:
            ray.shutdown()
        elif pool is not None:  # a Ray session that outlives the job: free its CPUs now
            pool.close()


def _dispatch(opts, outdir, files, manifest: Manifest, run: dict, pool: _Pool, pids: dict, tqdm) -> int:
    import ray

    totals = manifest.data["totals"]
    bar = tqdm(total=estimate_records(files), initial=totals["articles"] + totals["errors"], unit=" articles",
               desc="batch", disable=not opts.progress, file=sys.stderr, dynamic_ncols=True,
               smoothing=0.1)
    shards = iter_shards(iter_records(files), opts.shard_size, opts.max_chars)
    idle = list(pool.actors)
    inflight: dict = {}  # ObjectRef -> (actor, Shard)
    attempts: dict[int, int] = {}
    failed_shards: list[int] = []
    words = articles = 0
    run_t0 = time.perf_counter()
    exhausted = False
    status = None

    def submit(actor, shard: Shard) -> None:
        ref = actor.process.remote(shard.index, shard.docs)
        inflight[ref] = (actor, shard)
        attempts[shard.index] = attempts.get(shard.index, 0) + 1

    try:
        while True:
            assigned = []
            while len(assigned) < len(idle) and not exhausted:
                shard = next(shards, None)
                if shard is None:
                    exhausted = True
                    break
                entry = manifest.shards.get(str(shard.index))
                if entry is not None:
                    if entry["ids_sha256"] != shard.ids_sha256():
                        _say(f"error: the inputs changed since {outdir / entry['file']} was written (shard "
                             f"{shard.index} now holds other articles): use a new --output directory")
                        status = EXIT_USAGE
                        return status
                    continue
                assigned.append(shard)
            # recorded before the workers get them: a shard a worker may have started is never missed
            manifest.data["in_progress"] = sorted([s.index for _, s in inflight.values()] + [s.index for s in assigned])
            manifest.save()
            for shard in assigned:
                submit(idle.pop(), shard)
            if not inflight:
                break
            ready, _ = ray.wait(list(inflight), num_returns=1)
            ref = ready[0]
            actor, shard = inflight.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayError as exc:
                reason = _model_error(exc)
                if attempts[shard.index] < SHARD_ATTEMPTS:
                    _say(f"shard {shard.index}: worker lost ({reason}); retrying it on a new worker")
                    new = pool.replace(actor)
                    pids[new] = None
                    run["worker_restarts"] += 1
                    submit(new, shard)
                else:
                    _say(f"shard {shard.index} failed {attempts[shard.index]} times ({reason}); left undone")
                    run["shard_failures"].append({"shard": shard.index, "reason": _clean(reason)})
                    failed_shards.append(shard.index)
                    idle.append(pool.replace(actor))
                continue
            if pids.get(actor) not in (None, result["pid"]):
                run["worker_restarts"] += 1
                if opts.progress:
                    bar.write(f"a worker process died; Ray restarted it and retried shard {shard.index}")
            pids[actor] = result["pid"]
            idle.append(actor)
            path = write_part(outdir, shard.index, opts.format, result["jsonl"])
            failed = [{k: _clean(v) for k, v in e.to_dict().items()} for e in shard.errors]
            failed += [{k: _clean(v) for k, v in e.items()} for e in result["errors"]]
            n_ok = len(shard.docs) - len(result["errors"])
            manifest.mark_done(shard.index, {"file": path.name, "articles": n_ok, "errors": len(failed),
                                             "words": shard.words, "ids_sha256": shard.ids_sha256(),
                                             "failed": failed})
            if failed:
                manifest.write_errors()
            words += shard.words
            articles += n_ok
            elapsed = time.perf_counter() - run_t0
            run.update(articles=articles, words=words, compute_s=round(elapsed, 3))
            bar.update(len(shard.docs) + len(shard.errors))
            bar.set_postfix_str(f"{words / max(elapsed, 1e-9):,.0f} words/s", refresh=False)
    except KeyboardInterrupt:
        manifest.save()
        bar.close()
        _say(f"interrupted: {len(manifest.shards)} shard(s) done in {outdir}; run the same command to continue")
        return 130
    finally:
        bar.close()
        if status is not None:
            manifest.data["in_progress"] = []
            manifest.save()
    run["finished"] = True
    if not failed_shards:
        manifest.data["complete"] = True
        manifest.data["shard_count"] = len(manifest.shards)
    manifest.data["in_progress"] = []
    manifest.save()
    return _finish(manifest, outdir, failed_shards, already=False, run=run)


def _finish(manifest: Manifest, outdir: Path, failed_shards: list[int], already: bool, run: dict | None = None) -> int:
    totals = manifest.data["totals"]
    errors_path = manifest.write_errors()
    if already:
        _say(f"nothing to do: all {totals['shards']} shard(s) of {outdir} are done")
    else:
        speed = ""
        if run and run.get("compute_s"):
            speed = f" at {run['words'] / run['compute_s']:,.0f} words/s"
        _say(f"{totals['articles']} article(s) in {totals['shards']} shard(s) -> {outdir}{speed}")
    if totals["errors"]:
        _say(f"{totals['errors']} record(s) failed: see {errors_path}")
    if failed_shards:
        _say(f"{len(failed_shards)} shard(s) failed ({', '.join(part_name(i, manifest.data['format']) for i in failed_shards)}); "
             "run the same command again to retry them")
    return EXIT_FAILED if totals["errors"] or failed_shards else EXIT_OK
