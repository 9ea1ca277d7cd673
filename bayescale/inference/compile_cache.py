"""Compile a PyMC model for nutpie, reproducibly and with an on-disk cache.

Two things differ from ``nutpie.compile_pymc_model``:

**Reproducible numbers.** PyTensor's numba backend compiles with LLVM fast-math
flags by default (``pytensor.config.numba__fastmath``: reassociation, contraction
into fused multiply-adds, reciprocals, no signed zeros, approximate functions),
which license LLVM to round differently from one compilation to another. Measured
(issue 11): the log density and gradient at fixed points came out bit-identical
in every process that compiled them with an empty PyTensor cache, and bit-identical
in every process that loaded them from a filled one, but the two sets differed in
the last bits, and NUTS trajectories amplify that into a different posterior for
the same seed. With fast-math off the numbers were identical in all cache states
(empty, filled, and partly filled by another model) for the normal, ar1 and drift
models; each of reassociation, contraction and approximate functions alone also
kept them identical, the four flags other than approximate functions together did
not. So we compile with fast-math off; it costs 2-8% per gradient evaluation.

**Cached callbacks.** nutpie's sampler calls the model through two C callbacks
(log density with gradient, and the "expand" function that computes the stored
variables). nutpie builds them with ``numba.cfunc`` from closures over random
names, which numba cannot cache, so every new process paid ~20 s compiling them
even when PyTensor's own cache was full. Here the callbacks are generated as
source code with deterministic names and compiled with ``cache=True`` through a
numba cache locator of our own. A cache entry is found by a key that combines
PyTensor's cache key of the compiled log-density graph (which PyTensor derives
from every Op, constant and input type in the graph, and which includes the
fast-math setting), the callback source, the shared-data layout and the versions
of Python, numba, llvmlite, PyTensor, nutpie and this cache's format; a change of
any of them is a different entry, never a stale one. Graphs that PyTensor cannot
key (an Op whose numba implementation was registered without a cache key, see
:func:`pytensor.link.numba.dispatch.basic.register_funcify_default_op_cache_key`)
are compiled as before, without the disk cache.

Where the cache lives, and how to switch it off:

``BAYESCALE_CACHE_DIR``
    Directory of bayescale's caches (default: the user's cache directory,
    ``$XDG_CACHE_HOME/bayescale`` or ``~/.cache/bayescale`` on Linux,
    ``~/Library/Caches/bayescale`` on macOS, ``%LOCALAPPDATA%\\bayescale`` on
    Windows). The callbacks go into its ``numba-<tag>`` subdirectory, one per
    combination of package versions. Deleting the directory clears the cache.
``BAYESCALE_COMPILE_CACHE``
    ``0``, ``false``, ``no`` or ``off`` disables the disk cache (callbacks are then
    compiled in every process, as nutpie does).

Concurrent processes are safe: numba writes every cache file to a temporary name
and renames it into place, so a reader sees a whole old file or a whole new one;
two processes compiling the same model at once both write a valid entry and the
last rename wins. An unreadable entry (a truncated file, say) is deleted and
compiled again, with a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import numpy as np

from bayescale.user_warnings import warn

if TYPE_CHECKING:
    import pymc as pm

#: Bump when the generated callback source or the key changes meaning.
CACHE_FORMAT = 1

ENV_DIR = "BAYESCALE_CACHE_DIR"
ENV_SWITCH = "BAYESCALE_COMPILE_CACHE"
_OFF = {"0", "false", "no", "off"}

_LOCK = threading.Lock()


def versions() -> dict[str, str]:
    """Versions that a cached callback depends on (part of every cache key)."""
    from importlib.metadata import version

    found = {
        "python": ".".join(map(str, sys.version_info[:3])),
        "format": str(CACHE_FORMAT),
    }
    for package in ("numba", "llvmlite", "pytensor", "nutpie"):
        found[package] = version(package)
    return found


def default_cache_root() -> Path:
    """The user's cache directory for bayescale (``BAYESCALE_CACHE_DIR`` ignored)."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / "bayescale"


def cache_enabled() -> bool:
    """False when ``BAYESCALE_COMPILE_CACHE`` switches the disk cache off."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in _OFF


def cache_root() -> Path:
    """bayescale's cache directory: ``BAYESCALE_CACHE_DIR`` or the default."""
    configured = os.environ.get(ENV_DIR, "").strip()
    return Path(configured).expanduser().absolute() if configured else default_cache_root()


def callback_cache_dir() -> Path:
    """Directory of the compiled callbacks for the installed package versions."""
    tag = hashlib.sha256(json.dumps(versions(), sort_keys=True).encode()).hexdigest()[:12]
    return cache_root() / f"numba-{tag}"


def clear_cache() -> None:
    """Delete every cached callback (all package versions) under :func:`cache_root`."""
    import shutil

    root = cache_root()
    for path in root.glob("numba-*"):
        shutil.rmtree(path, ignore_errors=True)


def _writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


@contextlib.contextmanager
def reproducible_flags(fastmath: bool = False) -> Iterator[None]:
    """PyTensor flags under which compiled numbers do not depend on the cache state.

    Fast-math is off while PyTensor funcifies and numba compiles; PyTensor puts
    the setting into its own cache keys, so entries compiled with fast-math on
    (by other programs sharing ``~/.pytensor``) are never reused. ``fastmath=True``
    restores PyTensor's default flags (for benchmarks only).
    """
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=fastmath):
        yield


# --- numba cache locator ------------------------------------------------------

_REGISTERED: WeakKeyDictionary[Callable, tuple[Path, str, tuple]] = WeakKeyDictionary()


def _install_locator() -> None:
    """Put our locator first in numba's list (once per process)."""
    from numba.core.caching import CacheImpl, _CacheLocator

    if getattr(_install_locator, "done", False):
        return

    class _CallbackLocator(_CacheLocator):
        """Numba cache locator for callbacks generated by this module.

        Only functions registered in ``_REGISTERED`` are handled; their entries
        go to the registered directory under the registered key.
        """

        def __init__(self, py_func: Callable, directory: Path, key: str, stamp: tuple):
            self._py_func = py_func
            self._directory = directory
            self._key = key
            self._stamp = stamp

        def ensure_cache_path(self) -> None:
            self._directory.mkdir(parents=True, exist_ok=True)

        def get_cache_path(self) -> str:
            return str(self._directory)

        def get_source_stamp(self) -> Any:
            return self._stamp

        def get_disambiguator(self) -> str:
            return self._key

        @classmethod
        def from_function(cls, py_func: Callable, py_file: str):
            entry = _REGISTERED.get(py_func)
            if entry is None:
                return None
            return cls(py_func, *entry)

    CacheImpl._locator_classes.insert(0, _CallbackLocator)
    _install_locator.done = True  # type: ignore[attr-defined]


# --- generated callbacks ------------------------------------------------------


def _void_pointer():
    """A numba intrinsic turning an integer address into a ``void*``."""
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def address_as_void_pointer(typingctx, src):
        sig = types.voidptr(src)

        def codegen(cgctx, builder, sig, args):
            return builder.inttoptr(args[0], cgutils.voidptr_t)

        return sig, codegen

    return address_as_void_pointer


def _shared_arguments(keys: Sequence[str], shared_data: dict[str, np.ndarray]) -> tuple[str, str]:
    """Source lines rebuilding the shared arrays from ``user_data``, and their names."""
    lines, names = [], []
    for i, key in enumerate(keys):
        value = shared_data[key]
        name = f"s{i}"
        lines.append(
            f"    {name} = numba.carray(to_pointer(shared['data']['{key}'][()]), "
            f"(int(shared['size']['{key}'][()]),), DTYPE_{key})"
        )
        if value.ndim == 0:
            lines.append(f"    {name} = {name}.reshape(())")
        elif value.ndim > 1:
            dims = ", ".join(f"int(shared['shape']['{key}'][{d}])" for d in range(value.ndim))
            lines.append(f"    {name} = {name}.reshape(({dims},))")
        names.append(name)
    return "\n".join(lines), _call_arguments(["x", *names])


_MAX_LISTED_ARGUMENTS = 28
"""CPython builds a call of more than ~30 listed arguments through a list
(``LIST_TO_TUPLE``), an op-code numba cannot compile; longer argument lists are
passed as one starred sum of shorter tuples."""


def _call_arguments(names: Sequence[str]) -> str:
    """The argument text of ``inner(...)``: ``x, s0, s1`` or, for many arrays,
    ``*((x, s0, ...) + (s20, ...))``."""
    if len(names) <= _MAX_LISTED_ARGUMENTS:
        return ", ".join(names)
    size = _MAX_LISTED_ARGUMENTS // 2
    chunks = [names[i : i + size] for i in range(0, len(names), size)]
    return "*(" + " + ".join(f"({', '.join(chunk)},)" for chunk in chunks) + ")"


def _logp_source(n_dim: int, keys: Sequence[str], shared_data: dict[str, np.ndarray]) -> str:
    unpack, args = _shared_arguments(keys, shared_data)
    return f"""
def bayescale_logp(dim, x_, out_, logp_, user_data_):
    if dim != {n_dim}:
        return -1
    shared = numba.carray(user_data_, (), RECORD)['shared']
{unpack}
    try:
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_dim},))
        logp = numba.carray(logp_, (1,))
        value, grad = inner({args})
        logp[0] = value
        finite = True
        for i in range({n_dim}):
            out[i] = grad[i]
            finite = finite and np.isfinite(grad[i])
        if not finite:
            return 3
        if not np.isfinite(value):
            return 4
    except Exception:
        return 1
    return 0
"""


def _expand_source(
    n_dim: int, n_expanded: int, keys: Sequence[str], shared_data: dict[str, np.ndarray]
) -> str:
    unpack, args = _shared_arguments(keys, shared_data)
    return f"""
def bayescale_expand(dim, expanded, x_, out_, user_data_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_expanded}:
        return -1
    shared = numba.carray(user_data_, (), RECORD)['shared']
{unpack}
    try:
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_expanded},))
        (values,) = inner({args})
        for i in range({n_expanded}):
            out[i] = values[i]
    except Exception:
        return -2
    return 0
"""


def _inner_key(function: Any) -> str | None:
    """PyTensor's numba cache key of a compiled function's graph, if it has one."""
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    jit_fn = getattr(getattr(function, "vm", None), "jit_fn", None)
    py_func = getattr(jit_fn, "py_func", None)
    return None if py_func is None else CACHED_SRC_FUNCTIONS.get(py_func)


def _compile_callback(
    source: str,
    name: str,
    signature: Any,
    inner: Any,
    inner_key: str | None,
    user_data: np.ndarray,
    shared_data: dict[str, np.ndarray],
) -> Any:
    """``numba.cfunc`` of generated ``source``, through the disk cache when possible."""
    import numba

    namespace: dict[str, Any] = {
        # numba rebuilds a cached function's environment from this module's name
        "__name__": __name__,
        "numba": numba,
        "np": np,
        "inner": inner,
        "to_pointer": _void_pointer(),
        "RECORD": user_data.dtype,
        **{f"DTYPE_{key}": value.dtype for key, value in shared_data.items()},
    }
    exec(compile(source, "bayescale_callbacks", "exec"), namespace)
    function = namespace[name]
    directory = callback_cache_dir() if cache_enabled() else None
    if inner_key is None or directory is None or not _writable_dir(directory):
        return numba.cfunc(signature)(function)
    stamp = tuple(sorted(versions().items()))
    key = hashlib.sha256(
        json.dumps(
            {
                "inner": inner_key,
                "source": source,
                "record": str(user_data.dtype.descr),
                "versions": stamp,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    _install_locator()
    _REGISTERED[function] = (directory, key, stamp)
    try:
        return numba.cfunc(signature, cache=True)(function)
    except Exception as error:  # an unreadable entry must not break the fit
        warn(
            f"bayescale compile cache: compiling again, without the cached entry ({error!r})",
            RuntimeWarning,
        )
    for path in directory.glob(f"*-{key}.*"):
        path.unlink(missing_ok=True)
    try:
        return numba.cfunc(signature, cache=True)(function)
    except Exception:
        del _REGISTERED[function]
        return numba.cfunc(signature)(function)


def compile_pymc_model(model: pm.Model, *, fastmath: bool = False) -> Any:
    """Compile ``model`` for ``nutpie.sample`` (numba backend).

    Equivalent to ``nutpie.compile_pymc_model(model)`` with its defaults, but with
    fast-math off (reproducible numbers) and the callbacks on the disk cache.

    Parameters
    ----------
    model : pymc.Model
    fastmath : bool
        Compile with PyTensor's fast-math flags, as nutpie does. Only for
        measuring what reproducibility costs: the numbers then depend on the
        state of the compile cache.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        Supports ``with_data`` and ``nutpie.sample`` like nutpie's own.
    """
    with _LOCK, reproducible_flags(fastmath):
        try:
            from nutpie import compile_pymc as nutpie_pymc

            parts = (
                nutpie_pymc._make_functions,
                nutpie_pymc.make_user_data,
                nutpie_pymc._prepare_dims_and_coords,
                nutpie_pymc._wrap_with_lock,
                nutpie_pymc.CompiledPyMCModel,
            )
        except (ImportError, AttributeError):  # another nutpie: its own compile
            import nutpie

            return nutpie.compile_pymc_model(model)
        return _compile(model, *parts)


def _compile(
    model: pm.Model,
    make_functions: Callable,
    make_user_data: Callable,
    prepare_dims_and_coords: Callable,
    wrap_with_lock: Callable,
    compiled_class: type,
) -> Any:
    """nutpie's numba path (``_compile_pymc_model_numba``) with cacheable callbacks."""
    import numba
    from pymc.initial_point import make_initial_point_fn

    initial_point_fn = wrap_with_lock(
        make_initial_point_fn(
            model=model,
            default_strategy="support_point",
            jitter_rvs=set(model.free_RVs),
            return_transformed=True,
        )
    )
    (
        n_dim,
        n_expanded,
        logp_fn_pt,
        expand_fn_pt,
        initial_point_fn,
        shape_info,
        reparameterized_names,
    ) = make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=initial_point_fn,
        var_names=None,
    )
    shared_data: dict[str, np.ndarray] = {}
    shared_var_keys: dict[Any, str] = {}
    for var in [*logp_fn_pt.get_shared(), *expand_fn_pt.get_shared()]:
        if var in shared_var_keys:
            continue
        key = f"v{len(shared_var_keys)}"
        value = np.array(var.get_value(), order="C", copy=True)
        value.flags.writeable = False
        shared_data[key] = value
        shared_var_keys[var] = key
    user_data = make_user_data(shared_var_keys, shared_data)

    logp_keys = [shared_var_keys[var] for var in logp_fn_pt.get_shared()]
    logp_signature = numba.types.int64(
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )
    logp_numba = _compile_callback(
        _logp_source(n_dim, logp_keys, shared_data),
        "bayescale_logp",
        logp_signature,
        logp_fn_pt.vm.jit_fn,
        _inner_key(logp_fn_pt),
        user_data,
        shared_data,
    )
    expand_keys = [shared_var_keys[var] for var in expand_fn_pt.get_shared()]
    expand_signature = numba.types.int64(
        numba.types.uint64,
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )
    expand_numba = _compile_callback(
        _expand_source(n_dim, n_expanded, expand_keys, shared_data),
        "bayescale_expand",
        expand_signature,
        expand_fn_pt.vm.jit_fn,
        _inner_key(expand_fn_pt),
        user_data,
        shared_data,
    )
    dims, coords = prepare_dims_and_coords(model, shape_info, reparameterized_names)
    return compiled_class(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=logp_numba,
        compiled_expand_func=expand_numba,
        initial_point_func=initial_point_fn,
        shared_data=shared_data,
        shared_var_keys=shared_var_keys,
        user_data=user_data,
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_fn_pt,
        expand_func=expand_fn_pt,
        reparameterized_names=reparameterized_names,
    )
