"""Inference: checks before sampling, compile-once sampling with nutpie, fit and fit_many, diagnostics after."""
