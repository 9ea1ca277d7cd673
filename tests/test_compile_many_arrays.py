"""Compiled callbacks of models with many data arrays (priors' arguments are data too)."""

from __future__ import annotations

import numba

from bayescale.inference.compile_cache import _MAX_LISTED_ARGUMENTS, _call_arguments


def test_few_arguments_are_listed_as_before():
    assert _call_arguments(["x", "s0", "s1"]) == "x, s0, s1"


def test_many_arguments_compile_as_one_starred_tuple():
    # CPython builds a call of more than ~30 listed arguments through LIST_TO_TUPLE,
    # which numba cannot compile (the across-size law's model has 34 arrays)
    names = ["x", *(f"s{i}" for i in range(40))]
    text = _call_arguments(names)
    assert text.startswith("*(") and len(names) > _MAX_LISTED_ARGUMENTS

    @numba.njit
    def inner(*values):
        total = 0.0
        for value in values:
            total += value
        return total

    namespace = {"inner": inner}
    exec(f"def call({', '.join(names)}):\n    return inner({text})\n", namespace)
    compiled = numba.njit(namespace["call"])
    assert compiled(*range(41)) == sum(range(41))
