"""Trained model -> predicted documents and records (`predictor.Predictor`)."""

#: Windows per forward pass unless a caller says otherwise: small batches keep
#: activations in cache on a 2-core CPU; `benchmarks/bench_inference.py --batch-size N`
#: measures other sizes on your machine.
DEFAULT_BATCH_SIZE = 4
