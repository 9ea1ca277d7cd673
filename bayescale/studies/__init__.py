"""Simulation studies with known truth: simulators, calibration, decision rates."""
