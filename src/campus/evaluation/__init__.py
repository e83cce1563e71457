"""Evaluation of health AI models on data they never saw: benchmarks, sealed ONNX submissions."""
