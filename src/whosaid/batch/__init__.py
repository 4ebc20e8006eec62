"""Batch inference over large collections on Ray (`whosaid batch`).

`engine.run_batch` drives a job: the sorted inputs (`inputs`) are cut into shards,
Ray actors holding the model (`worker.ShardWorker`) predict them, and each shard
becomes one atomically written file (`output`) recorded in `_manifest.json`
(`manifest`), so an interrupted job continues where it stopped.
"""
