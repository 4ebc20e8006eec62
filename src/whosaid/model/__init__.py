"""The model: `modeling` (WhosaidConfig / WhosaidModel on any transformers encoder)
and `onnx` (export and the onnxruntime backend)."""
