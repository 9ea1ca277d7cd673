"""Baselines bayescale is compared against: the ScaleRL least-squares procedure."""
