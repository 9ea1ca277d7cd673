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

**Cached model layouts.** The callbacks' keys come from the rewritten graph, so
finding them still costs PyTensor's graph rewriting (~6 s of a ~10 s compile).
A caller that knows what a model's graph depends on passes ``entry=`` (see
:func:`model_entry_key`): the first compile of that model then writes, beside
the callbacks, a small JSON file with everything else the compiled model needs
(the callbacks' cache keys, the names, slices and shapes of the variables, which
of them are transformed, the layout of the data containers), and a later compile
of the same entry, in any process, builds the PyMC model (for its initial point
and data containers), loads the two callbacks and rewrites no graph. An entry is
only used when both callbacks load from the disk cache; anything else (a missing,
damaged or foreign file) compiles afresh. The entry files are plain JSON, never
pickles; numba's own cache files (``*.nbi``, ``*.nbc``), which numba writes and
reads with :mod:`pickle`, are only ever read from this cache directory, which
belongs to the user: do not point ``BAYESCALE_CACHE_DIR`` at a directory others
can write to.

Where the cache lives, and how to switch it off:

``BAYESCALE_CACHE_DIR``
    Directory of bayescale's caches (default: the user's cache directory,
    ``$XDG_CACHE_HOME/bayescale`` or ``~/.cache/bayescale`` on Linux,
    ``~/Library/Caches/bayescale`` on macOS, ``%LOCALAPPDATA%\\bayescale`` on
    Windows). The callbacks go into its ``numba-<tag>`` subdirectory, one per
    combination of package versions. Deleting the directory clears the cache.
``BAYESCALE_COMPILE_CACHE``
    ``0``, ``false``, ``no`` or ``off`` disables the disk cache (callbacks and
    models are then compiled in every process, as nutpie does).

Concurrent processes are safe: numba writes every cache file to a temporary name
and renames it into place, and so do the model entries here, so a reader sees a
whole old file or a whole new one; two processes compiling the same model at once
both write a valid entry and the last rename wins. An unreadable entry (a truncated file, say) is deleted and
compiled again, with a warning.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import numpy as np

from bayescale.user_warnings import warn

if TYPE_CHECKING:
    import pymc as pm

#: Bump when the generated callback source, an entry's layout or a key changes meaning.
CACHE_FORMAT = 2

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
    for package in ("numba", "llvmlite", "pytensor", "nutpie", "pymc", "numpy"):
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


def _callback_namespace(
    inner: Any, user_data: np.ndarray, shared_data: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Globals of the generated callback source."""
    import numba

    return {
        # numba rebuilds a cached function's environment from this module's name
        "__name__": __name__,
        "numba": numba,
        "np": np,
        "inner": inner,
        "to_pointer": _void_pointer(),
        "RECORD": user_data.dtype,
        **{f"DTYPE_{key}": value.dtype for key, value in shared_data.items()},
    }


def _callback_function(
    source: str,
    name: str,
    inner: Any,
    user_data: np.ndarray,
    shared_data: dict[str, np.ndarray],
) -> Callable:
    """The Python function of generated ``source`` (not compiled yet)."""
    namespace = _callback_namespace(inner, user_data, shared_data)
    exec(compile(source, "bayescale_callbacks", "exec"), namespace)
    return namespace[name]


def _callback_key(inner_key: str, source: str, user_data: np.ndarray) -> str:
    """The disk-cache key of a callback: its inner graph's key, its source, the
    shared-data layout and the package versions."""
    return hashlib.sha256(
        json.dumps(
            {
                "inner": inner_key,
                "source": source,
                "record": str(user_data.dtype.descr),
                "versions": tuple(sorted(versions().items())),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()


def _compile_callback(
    source: str,
    name: str,
    signature: Any,
    inner: Any,
    inner_key: str | None,
    user_data: np.ndarray,
    shared_data: dict[str, np.ndarray],
) -> tuple[Any, str | None]:
    """``numba.cfunc`` of generated ``source``, through the disk cache when possible.

    Returns the callback and its disk-cache key (``None`` when it is not cached).
    """
    import numba

    function = _callback_function(source, name, inner, user_data, shared_data)
    directory = callback_cache_dir() if cache_enabled() else None
    if inner_key is None or directory is None or not _writable_dir(directory):
        return numba.cfunc(signature)(function), None
    key = _callback_key(inner_key, source, user_data)
    _install_locator()
    _REGISTERED[function] = (directory, key, tuple(sorted(versions().items())))
    try:
        return numba.cfunc(signature, cache=True)(function), key
    except Exception as error:  # an unreadable entry must not break the fit
        warn(
            f"bayescale compile cache: compiling again, without the cached entry ({error!r})",
            RuntimeWarning,
        )
    for path in directory.glob(f"*-{key}.*"):
        path.unlink(missing_ok=True)
    try:
        return numba.cfunc(signature, cache=True)(function), key
    except Exception:
        del _REGISTERED[function]
        return numba.cfunc(signature)(function), None


class _Missing(Exception):
    """A callback is not in the disk cache (raised instead of compiling it)."""


def _inner_placeholder(*args: Any) -> Any:
    """Stands in for the compiled graph while a callback loads from the cache: a
    cached callback holds its inner function's machine code, so it is never called."""
    raise _Missing


def _cached_callback(
    source: str,
    name: str,
    signature: Any,
    key: str,
    user_data: np.ndarray,
    shared_data: dict[str, np.ndarray],
) -> Any | None:
    """The callback cached under ``key``, or ``None`` when it is not on disk (then
    nothing is compiled: the placeholder graph could not be)."""
    from numba.core import sigutils
    from numba.core.ccallback import CFunc

    function = _callback_function(source, name, _inner_placeholder, user_data, shared_data)
    _install_locator()
    _REGISTERED[function] = (callback_cache_dir(), key, tuple(sorted(versions().items())))
    callback = CFunc(function, sigutils.normalize_signature(signature), locals={}, options={})
    callback.enable_caching()

    def missing() -> Any:
        raise _Missing

    callback._compile_uncached = missing  # type: ignore[method-assign]
    try:
        callback.compile()
    except _Missing:
        return None
    return callback


def _logp_signature() -> Any:
    import numba

    return numba.types.int64(
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )


def _expand_signature() -> Any:
    import numba

    return numba.types.int64(
        numba.types.uint64,
        numba.types.uint64,
        numba.types.CPointer(numba.types.double),
        numba.types.CPointer(numba.types.double),
        numba.types.voidptr,
    )


# --- cached model layouts -----------------------------------------------------

#: PyTensor settings that change how a graph is rewritten or compiled.
_PYTENSOR_FLAGS = (
    "floatX",
    "mode",
    "linker",
    "optimizer",
    "optimizer_excluding",
    "optimizer_including",
    "optimizer_requiring",
    "cast_policy",
    "numba__fastmath",
    "compute_test_value",
)


@functools.cache
def package_source_digest() -> str:
    """SHA-256 of every module of bayescale: an edit of any of them is a new entry."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _pytensor_settings() -> dict[str, str]:
    """The PyTensor flags in force and where they came from (environment, rc files)."""
    import pytensor

    settings = {flag: str(getattr(pytensor.config, flag, None)) for flag in _PYTENSOR_FLAGS}
    settings["PYTENSOR_FLAGS"] = os.environ.get("PYTENSOR_FLAGS", "")
    rc_files = os.environ.get("PYTENSORRC", "~/.pytensorrc:~/.pytensorrc.txt")
    for name in rc_files.split(os.pathsep):
        path = Path(name).expanduser()
        if path.is_file():
            settings[f"rc:{path}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return settings


def _function_name(value: Callable) -> str | None:
    """``module:qualname`` of a module-level function of bayescale, else ``None`` (a
    user's function, a closure or a partial: its code is not covered by
    :func:`package_source_digest`)."""
    module = getattr(value, "__module__", None) or ""
    qualname = getattr(value, "__qualname__", "<locals>")
    if not module.startswith("bayescale.") or "<locals>" in qualname:
        return None
    return f"{module}:{qualname}"


def _definition(item: Any) -> dict[str, Any] | None:
    """A stable description of a law or observation model (a frozen dataclass, its
    dataclass fields such as a law's coordinates described alike) or of a
    model-building function, or ``None`` when a function in it is not a
    module-level function of bayescale (:func:`_function_name`).

    Examples
    --------
    >>> _definition(versions)
    {'function': 'bayescale.inference.compile_cache:versions'}
    >>> _definition(functools.partial(versions)) is None
    True
    """
    import dataclasses

    if not dataclasses.is_dataclass(item):
        name = _function_name(item) if callable(item) else None
        return None if name is None else {"function": name}
    described = {}
    for field in dataclasses.fields(item):
        value = getattr(item, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            nested = _definition(value)
            if nested is None:
                return None
            described[field.name] = nested
        elif callable(value):
            name = _function_name(value)
            if name is None:
                return None
            described[field.name] = name
        else:
            text = repr(sorted(value) if isinstance(value, (set, frozenset)) else value)
            if " at 0x" in text:
                return None
            described[field.name] = text
    return described


def model_entry_key(structure: Any, definitions: Sequence[Any]) -> str | None:
    """The key of a model's cached layout, or ``None`` when it must not be cached.

    Parameters
    ----------
    structure : JSON-serialisable
        What the graph depends on besides the definitions: for bayescale's models
        :func:`bayescale.model.build.structure_key` (law, likelihood, hierarchy,
        prior families, numbers of runs and recipes).
    definitions : sequence of dataclass or function
        The law and the observation model, or the module-level function that
        builds the model; all of their functions must be bayescale's own (see
        :func:`_definition`).

    The key also holds the package versions (:func:`versions`), the source of
    every bayescale module and the PyTensor flags in force, so that no change of
    any of them can reuse an entry.
    """
    described = [_definition(item) for item in definitions]
    if any(item is None for item in described):
        return None
    payload = {
        "structure": structure,
        "definitions": described,
        "versions": versions(),
        "source": package_source_digest(),
        "pytensor": _pytensor_settings(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _entry_path(entry: str) -> Path:
    return cache_root() / "models" / f"{entry}.json"


def _write_entry(entry: str, layout: dict[str, Any]) -> None:
    """Write ``layout`` under ``entry`` atomically (a temporary file renamed into place)."""
    path = _entry_path(entry)
    if not _writable_dir(path.parent):
        return
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{entry[:12]}-", suffix=".tmp", delete=False
    ) as handle:
        json.dump(layout, handle)
    os.replace(handle.name, path)


def _read_entry(entry: str) -> dict[str, Any] | None:
    try:
        layout = json.loads(_entry_path(entry).read_text())
    except (OSError, ValueError):
        return None
    return layout if isinstance(layout, dict) and layout.get("format") == CACHE_FORMAT else None


def compile_pymc_model(model: pm.Model, *, fastmath: bool = False, entry: str | None = None) -> Any:
    """Compile ``model`` for ``nutpie.sample`` (numba backend).

    Equivalent to ``nutpie.compile_pymc_model(model)`` with its defaults, but with
    fast-math off (reproducible numbers) and the callbacks on the disk cache.

    Parameters
    ----------
    model : pymc.Model
    fastmath : bool
        Compile with PyTensor's fast-math flags, as nutpie does. Only for
        measuring what reproducibility costs: the numbers then depend on the
        state of the compile cache (and no model entry is read or written).
    entry : str, optional
        Key of the model's cached layout (:func:`model_entry_key`): when given,
        a model compiled before under this key is loaded without rewriting its
        graph, and a model compiled now is written under it.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        Supports ``with_data`` and ``nutpie.sample`` like nutpie's own (loaded
        from an entry, its ``logp_func`` and ``expand_func``, the PyTensor
        functions behind the callbacks, are ``None``).
    """
    use_entry = entry is not None and not fastmath and cache_enabled()
    with _LOCK, reproducible_flags(fastmath):
        try:
            from nutpie import compile_pymc as nutpie_pymc

            parts = _NutpieParts(
                nutpie_pymc._make_functions,
                nutpie_pymc.make_user_data,
                nutpie_pymc._prepare_dims_and_coords,
                nutpie_pymc._wrap_with_lock,
                nutpie_pymc._rv_dict_to_flat_array_wrapper,
                nutpie_pymc.CompiledPyMCModel,
            )
        except (ImportError, AttributeError):  # another nutpie: its own compile
            import nutpie

            return nutpie.compile_pymc_model(model)
        if use_entry:
            layout = _read_entry(entry)
            loaded = None if layout is None else _from_layout(model, layout, parts)
            if loaded is not None:
                return loaded
        compiled, layout = _compile(model, parts)
        if use_entry and layout is not None:
            _write_entry(entry, layout)
        return compiled


@dataclass(frozen=True)
class _NutpieParts:
    """The pieces of nutpie's numba compile path that this module reuses."""

    make_functions: Callable
    make_user_data: Callable
    prepare_dims_and_coords: Callable
    wrap_with_lock: Callable
    flat_initial_point: Callable
    compiled_class: type


def _initial_point_function(model: pm.Model, parts: _NutpieParts) -> Callable:
    """PyMC's seeded initial point (support points, jittered), as nutpie makes it."""
    from pymc.initial_point import make_initial_point_fn

    return parts.wrap_with_lock(
        make_initial_point_fn(
            model=model,
            default_strategy="support_point",
            jitter_rvs=set(model.free_RVs),
            return_transformed=True,
        )
    )


def _compile(model: pm.Model, parts: _NutpieParts) -> tuple[Any, dict[str, Any] | None]:
    """nutpie's numba path (``_compile_pymc_model_numba``) with cacheable callbacks.

    Returns the compiled model and its layout for a model entry (``None`` when a
    callback is not on the disk cache or a data container has no unique name).
    """
    (
        n_dim,
        n_expanded,
        logp_fn_pt,
        expand_fn_pt,
        initial_point_fn,
        shape_info,
        reparameterized_names,
    ) = parts.make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=_initial_point_function(model, parts),
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
    user_data = parts.make_user_data(shared_var_keys, shared_data)

    logp_keys = [shared_var_keys[var] for var in logp_fn_pt.get_shared()]
    logp_numba, logp_key = _compile_callback(
        _logp_source(n_dim, logp_keys, shared_data),
        "bayescale_logp",
        _logp_signature(),
        logp_fn_pt.vm.jit_fn,
        _inner_key(logp_fn_pt),
        user_data,
        shared_data,
    )
    expand_keys = [shared_var_keys[var] for var in expand_fn_pt.get_shared()]
    expand_numba, expand_key = _compile_callback(
        _expand_source(n_dim, n_expanded, expand_keys, shared_data),
        "bayescale_expand",
        _expand_signature(),
        expand_fn_pt.vm.jit_fn,
        _inner_key(expand_fn_pt),
        user_data,
        shared_data,
    )
    dims, coords = parts.prepare_dims_and_coords(model, shape_info, reparameterized_names)
    compiled = parts.compiled_class(
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
    named = all(model.named_vars.get(var.name) is var for var in shared_var_keys)
    if logp_key is None or expand_key is None or not named:
        return compiled, None
    variable_names, slices, shapes = shape_info
    layout = {
        "format": CACHE_FORMAT,
        "n_dim": int(n_dim),
        "n_expanded": int(n_expanded),
        "names": list(variable_names),
        "slices": [[int(part.start), int(part.stop)] for part in slices],
        "shapes": [[int(size) for size in shape] for shape in shapes],
        "reparameterized_names": list(reparameterized_names),
        "shared": [[key, var.name] for var, key in shared_var_keys.items()],
        "logp_shared": logp_keys,
        "expand_shared": expand_keys,
        "record": str(user_data.dtype.descr),
        "logp_key": logp_key,
        "expand_key": expand_key,
    }
    return compiled, layout


def _from_layout(model: pm.Model, layout: dict[str, Any], parts: _NutpieParts) -> Any | None:
    """The compiled model from a cached layout, with no graph rewritten; ``None``
    when the layout does not fit ``model`` or a callback is not on disk."""
    from pytensor.compile.sharedvalue import SharedVariable

    try:
        names, shapes = list(layout["names"]), [tuple(shape) for shape in layout["shapes"]]
        slices = [slice(start, stop) for start, stop in layout["slices"]]
        free = [model.rvs_to_values[rv].name for rv in model.free_RVs]
        if names[: len(free)] != free:
            return None
        shared_data: dict[str, np.ndarray] = {}
        shared_var_keys: dict[Any, str] = {}
        for key, name in layout["shared"]:
            var = model.named_vars.get(name)
            if not isinstance(var, SharedVariable):
                return None
            value = np.array(var.get_value(), order="C", copy=True)
            value.flags.writeable = False
            shared_data[key] = value
            shared_var_keys[var] = key
        user_data = parts.make_user_data(shared_var_keys, shared_data)
        if str(user_data.dtype.descr) != layout["record"]:
            return None
        n_dim, n_expanded = int(layout["n_dim"]), int(layout["n_expanded"])
        logp = _cached_callback(
            _logp_source(n_dim, layout["logp_shared"], shared_data),
            "bayescale_logp",
            _logp_signature(),
            layout["logp_key"],
            user_data,
            shared_data,
        )
        expand = _cached_callback(
            _expand_source(n_dim, n_expanded, layout["expand_shared"], shared_data),
            "bayescale_expand",
            _expand_signature(),
            layout["expand_key"],
            user_data,
            shared_data,
        )
    except (KeyError, TypeError, ValueError):  # a damaged entry: compile afresh
        return None
    if logp is None or expand is None:
        return None
    shape_info = (names, slices, shapes)
    reparameterized_names = list(layout["reparameterized_names"])
    initial_point_fn = parts.flat_initial_point(
        _initial_point_function(model, parts), names=free, shapes=shapes[: len(free)]
    )
    dims, coords = parts.prepare_dims_and_coords(model, shape_info, reparameterized_names)
    return parts.compiled_class(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes=dict(zip(names, shapes, strict=True)),
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=initial_point_fn,
        shared_data=shared_data,
        shared_var_keys=shared_var_keys,
        user_data=user_data,
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=None,
        expand_func=None,
        reparameterized_names=reparameterized_names,
    )
