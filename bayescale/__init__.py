"""bayescale: Bayesian inference on scaling laws of large language models."""

__version__ = "0.1.0"
