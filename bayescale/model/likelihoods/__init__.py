"""Observation models: how the metric scatters around the curve, and their registry."""
