"""Save and load fits as netCDF: the ArviZ DataTree plus JSON attributes.

No pickle anywhere: the posterior, the sample statistics and the fitted data are
netCDF groups; the model spec, priors, sampler settings, diagnostics and version
are JSON strings in the root attributes. Loading a file from someone else reads
numbers and text and runs no code.

A file is written to a temporary name beside its target and renamed into
place when complete (:mod:`bayescale.results.output`), so a failed write never leaves a
truncated fit; an existing file is replaced only with ``overwrite=True``.

A fit file from someone else is safe to open. Before reading any value the
loader checks the file's structure from its HDF5 metadata
(:func:`check_structure`): a regular file of bounded size, only the groups the
format defines, no nested groups, no soft or external links, no external or
virtual storage (which could point at a FIFO or at ``/etc/passwd``), no more
array bytes once decompressed than :data:`MAX_ARRAY_BYTES` (a compression bomb
is refused unread), and no more than :data:`MAX_OTHER_BYTES` outside the arrays
(junk attributes). It then reads only the attributes and variables the format
defines (others are refused; unknown root attributes are ignored, never read)
and refuses, in one line naming the file, anything inconsistent: damaged or
ill-typed attributes, draws outside each parameter's support or not finite,
arrays whose SHA-256 differs from the one recorded at save time (edited data or
posterior), and outputs that disagree with their folder's manifest (a write cut
off between two renames). The fitted data's source file is hashed only on
request (``check_source=True``).

A result made from a fit (a recipe comparison,
:mod:`bayescale.analysis.comparison_file`) is saved as the fit's file under its
own ``bayescale_format`` with its settings in more root attributes
(:func:`save_fit` ``format=``, ``attributes=``) and read back with
:func:`read_fit`; :func:`bayescale.load` reads any of them.

Examples
--------
>>> fit.save("fit.nc")  # doctest: +SKIP
>>> same = bayescale.load("fit.nc")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import numbers
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescale.data.curves import CurveData
from bayescale.inference.law_error import LawError
from bayescale.inference.sampler_settings import check_seed
from bayescale.model.build import ModelSpec
from bayescale.model.laws import POSITIVE_FAMILIES, get_law
from bayescale.model.likelihoods.registry import get_likelihood
from bayescale.model.priors import hierarchy_prior_name, prior_from_dict
from bayescale.results.fit_result import Diagnostics, Fit
from bayescale.results.output import OutputError, verify_manifest, write_file
from bayescale.results.provenance import SamplerSettings

FORMAT = "bayescale-fit/1"
ENGINE = "h5netcdf"
#: Groups of the format; ``excluded_data`` is optional.
GROUPS = ("posterior", "sample_stats", "observed_data", "excluded_data")
#: Root attributes of the format (others are ignored, never read).
ATTRIBUTES = (
    "bayescale_format",
    "bayescale_version",
    "spec",
    "sampler",
    "diagnostics",
    "law_error",
    "data",
)
#: The checksums of the groups in :data:`CHECKED_GROUPS`.
CHECKSUMS = "checksums"
CHECKED_GROUPS = ("posterior", "observed_data", "excluded_data")
#: Largest fit file read (bytes); ``load_fit(max_bytes=...)`` raises it.
MAX_FILE_BYTES = 1 << 30
#: Largest total size of the arrays once decompressed (bytes).
MAX_ARRAY_BYTES = 1 << 30
#: Largest size of everything outside the arrays' storage (attributes, labels,
#: HDF5 metadata), bytes.
MAX_OTHER_BYTES = 16 << 20
#: Most HDF5 objects (groups and variables) in a fit file.
MAX_OBJECTS = 2000
#: Columns observed data may hold besides the law's inputs.
DATA_COLUMNS = ("y", "run", "recipe", "trials", "row", "y_start", "compute")
#: Label variables (strings); every other variable must be numeric.
LABELS = ("run", "recipe")


class FitFileError(ValueError):
    """A file that is not a bayescale fit, or one this version cannot read."""


def save_fit(
    fit: Fit,
    path: str | Path,
    *,
    overwrite: bool = False,
    format: str = FORMAT,
    attributes: Mapping[str, str] | None = None,
) -> Path:
    """Write ``fit`` to a netCDF file, atomically.

    Parameters
    ----------
    fit : Fit
    path : str or Path
    overwrite : bool
        Replace an existing file (refused otherwise, as on the command line).
    format : str
        The ``bayescale_format`` marker: a result made from this fit saves
        itself as the fit plus ``attributes`` under a format of its own.
    attributes : mapping of str to str, optional
        More root attributes (text) to write beside the fit's.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    bayescale.results.output.OutputError
        If ``path`` exists and ``overwrite`` is false, or cannot be written
        (an existing file is then left as it was).
    """
    content = netcdf_bytes(fit, format=format, attributes=attributes)
    return write_file(path, lambda temp: temp.write_bytes(content), overwrite=overwrite)


def netcdf_bytes(
    fit: Fit, *, format: str = FORMAT, attributes: Mapping[str, str] | None = None
) -> bytes:
    """The netCDF file of ``fit``, made in memory, marked ``format`` and with
    the root ``attributes`` beside the fit's (see :func:`save_fit`).

    HDF5 never writes to disk itself, so a full disk or a file-size limit is an
    ordinary ``OSError`` of the caller's write (HDF5 crashes the process on a
    failed write of its own).
    """
    tree = fit.tree.copy()
    excluded = fit.data.excluded
    if len(excluded):
        tree["excluded_data"] = xr.DataTree(
            xr.Dataset(
                {column: ("excluded", excluded[column].to_numpy()) for column in excluded.columns}
            )
        )
    tree.attrs = {
        "bayescale_format": format,
        "bayescale_version": fit.version,
        "spec": json.dumps(fit.spec.to_dict()),
        "sampler": json.dumps(fit.sampler.to_dict()),
        "diagnostics": json.dumps(fit.diagnostics.to_dict()),
        "law_error": json.dumps(None if fit.law_error is None else fit.law_error.to_dict()),
        "data": json.dumps(
            {
                "columns": fit.data.columns,
                "source": fit.data.source,
                "notes": fit.data.notes,
                "path": fit.data.path,
                "sha256": fit.data.sha256,
                "bounds": list(fit.data.bounds),
                "min_points": fit.data.min_points,
                "base_notes": fit.data.base_notes,
            }
        ),
        CHECKSUMS: json.dumps(checksums(tree)),
        **(attributes or {}),
    }
    buffer = io.BytesIO()
    tree.to_netcdf(buffer, engine=ENGINE)
    return buffer.getvalue()


def load_fit(
    path: str | Path, *, check_source: bool = False, max_bytes: int = MAX_FILE_BYTES
) -> Fit:
    """Read a fit written by :func:`save_fit`, checking everything it reads.

    Parameters
    ----------
    path : str or Path
    check_source : bool
        Also refuse the fit when its source data file (the path recorded in the
        fit) still exists but no longer holds the bytes that were fitted. Off by
        default: a file from someone else must not make the loader read (and
        hash) whatever local file it names.
    max_bytes : int
        Largest file, and largest total of decompressed arrays, to read.

    Raises
    ------
    FitFileError
        If the file is missing, not a regular file, too large, unreadable, not a
        bayescale fit of this format, unsafe (links, external storage, nested
        or unknown groups, a compression bomb), inconsistent (damaged
        attributes, missing or extra variables, values outside a parameter's
        support, fewer draws than its settings say, checksums that do not
        match), cut off while its folder was written, or its source changed
        (with ``check_source``).
    """
    return read_fit(path, check_source=check_source, max_bytes=max_bytes)[0]


def file_format(path: Path, formats: tuple[str, ...], *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The ``bayescale_format`` of a file that is safe to read, one of ``formats``.

    Raises
    ------
    FitFileError
        If :func:`check_structure` refuses the file, it was cut off while its
        folder was written, or its format is missing or not one of ``formats``.
    """
    check_structure(path, max_bytes=max_bytes)
    try:
        verify_manifest(path)
    except OutputError as err:
        raise FitFileError(str(err)) from None
    found = _root_attributes(path, ("bayescale_format",)).get("bayescale_format")
    if found not in formats:
        expected = " or ".join(map(repr, formats))
        what = (
            "not a bayescale fit file"
            if found is None
            else f"format {found!r}, expected {expected}"
        )
        raise FitFileError(f"{path}: {what}")
    return found


def read_fit(
    path: str | Path,
    *,
    format: str = FORMAT,
    attributes: tuple[str, ...] = (),
    check_source: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
) -> tuple[Fit, dict[str, str]]:
    """The fit in a file of ``format``, checked as :func:`load_fit` checks it, and
    the file's root ``attributes`` beside the fit's (text, unchecked: the
    caller checks them).

    Raises
    ------
    FitFileError
        As :func:`load_fit`.
    """
    path = Path(path)
    file_format(path, (format,), max_bytes=max_bytes)
    attrs = _root_attributes(path, (*ATTRIBUTES, CHECKSUMS, *attributes))
    if CHECKSUMS not in attrs:
        raise FitFileError(
            f"{path}: damaged bayescale attributes (missing 'checksums': edited, or saved by "
            "bayescale 0.2.0 or earlier, which did not record them; fit and save it again)"
        )
    try:
        spec, sampler, diagnostics, data_info = _read_attributes(attrs)
        recorded = _json(attrs, CHECKSUMS)
        law_error = _law_error(attrs, spec)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as err:
        raise FitFileError(f"{path}: damaged bayescale attributes ({_reason(err)})") from None
    tree = _read_groups(path, spec)
    try:
        frame = _observed_frame(tree["observed_data"].to_dataset(), spec)
        _check_posterior(tree, spec, sampler, frame)
        _check_checksums(tree, recorded)
        curves = CurveData(
            frame=frame,
            columns=_str_dict(data_info["columns"], "data.columns"),
            source=_str(data_info["source"], "data.source"),
            notes=_str_list(data_info["notes"], "data.notes"),
            path=_optional_str(data_info.get("path"), "data.path"),
            sha256=_optional_str(data_info.get("sha256"), "data.sha256"),
            excluded=_excluded_frame(tree, frame),
            bounds=_bounds(data_info.get("bounds", (None, None))),
            min_points=_whole(data_info.get("min_points", 1), "data.min_points", low=1),
            base_notes=_str_list(data_info.get("base_notes", []), "data.base_notes"),
        )
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as err:
        raise FitFileError(f"{path}: damaged fit ({_reason(err)})") from None
    if check_source:
        _check_source(path, curves)
    fit = Fit(
        tree=tree,
        data=curves,
        spec=spec,
        sampler=sampler,
        diagnostics=diagnostics,
        times=None,
        version=str(attrs.get("bayescale_version", "")),
        law_error=law_error,
    )
    return fit, {name: attrs[name] for name in attributes if name in attrs}


def _reason(err: BaseException) -> str:
    if isinstance(err, KeyError):
        return f"missing {err}"
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def check_structure(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse, from the file's metadata alone, a file the loader must not read.

    Checks that ``path`` is a regular file of at most ``max_bytes``, an HDF5
    file whose root holds only the groups of :data:`GROUPS` (no nested groups,
    named types, soft or external links), whose variables use neither external
    nor virtual storage, whose arrays take at most ``max_bytes`` (and
    :data:`MAX_ARRAY_BYTES`) once decompressed, and which holds at most
    :data:`MAX_OTHER_BYTES` outside the arrays' storage.

    Raises
    ------
    FitFileError
    """
    import h5py

    try:
        info = path.lstat() if path.is_symlink() and not path.exists() else path.stat()
    except OSError:
        raise FitFileError(f"{path}: no such file") from None
    if stat.S_ISDIR(info.st_mode):
        raise FitFileError(f"{path}: is a folder, not a fit file")
    if not stat.S_ISREG(info.st_mode):
        raise FitFileError(f"{path}: not a regular file (a FIFO, device or socket is never read)")
    if info.st_size > max_bytes:
        raise FitFileError(
            f"{path}: {info.st_size} bytes, more than the {max_bytes} a fit file may have "
            "(load_fit(max_bytes=...) raises the limit)"
        )
    try:
        with h5py.File(path, "r", locking=False) as handle:
            storage, expanded, objects = 0, 0, 0
            for name in handle:
                link = handle.get(name, getlink=True)
                if not isinstance(link, h5py.HardLink):
                    raise FitFileError(
                        f"{path}: /{name} is a {type(link).__name__}, not stored in the file"
                    )
                group = handle[name]
                if not isinstance(group, h5py.Group) or name not in GROUPS:
                    raise FitFileError(f"{path}: /{name} is not a group of the fit format")
                for member in group:
                    objects += 1
                    if objects > MAX_OBJECTS:
                        raise FitFileError(f"{path}: more than {MAX_OBJECTS} variables")
                    link = group.get(member, getlink=True)
                    where = f"/{name}/{member}"
                    if not isinstance(link, h5py.HardLink):
                        raise FitFileError(
                            f"{path}: {where} is a {type(link).__name__}, not stored in the file"
                        )
                    variable = group[member]
                    if not isinstance(variable, h5py.Dataset):
                        raise FitFileError(
                            f"{path}: {where} is not a variable (nested groups are refused)"
                        )
                    if variable.is_virtual or variable.id.get_create_plist().get_external_count():
                        raise FitFileError(
                            f"{path}: {where} keeps its values outside the file (external storage is refused)"
                        )
                    storage += variable.id.get_storage_size()
                    expanded += int(variable.size) * variable.dtype.itemsize
            limit = min(max_bytes, MAX_ARRAY_BYTES)
            if expanded > limit:
                raise FitFileError(
                    f"{path}: its arrays would take {expanded} bytes once decompressed, more than "
                    f"{limit} (a compression bomb?)"
                )
            other = info.st_size - storage
            if other > MAX_OTHER_BYTES:
                raise FitFileError(
                    f"{path}: {other} bytes outside its arrays (attributes, labels), more than the "
                    f"{MAX_OTHER_BYTES} a fit has"
                )
    except FitFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise FitFileError(f"{path}: not a readable netCDF file ({_reason(err)})") from None


def _root_attributes(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The root attributes ``names`` the file has (strings), read one by one."""
    import h5py

    out: dict[str, Any] = {}
    with h5py.File(path, "r", locking=False) as handle:
        for name in names:
            if name not in handle.attrs:
                continue
            try:
                value = handle.attrs[name]
            except (OSError, ValueError, TypeError) as err:
                raise FitFileError(
                    f"{path}: unreadable attribute {name!r} ({_reason(err)})"
                ) from None
            if isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
            if not isinstance(value, str):
                raise FitFileError(f"{path}: damaged bayescale attributes ({name!r} is not text)")
            out[name] = value
    return out


def _read_groups(path: Path, spec: ModelSpec) -> xr.DataTree:
    """The groups of the format, each holding only the variables it may hold."""
    import h5py

    allowed = _allowed_variables(spec)
    with h5py.File(path, "r", locking=False) as handle:
        present = [name for name in GROUPS if name in handle]
        for group in present:
            names = allowed[group]
            extra = [] if names is None else sorted(set(handle[group]) - names)
            if extra:
                raise FitFileError(
                    f"{path}: {group} holds {', '.join(extra[:3])}, not part of the fit format"
                )
            for name in handle[group]:
                variable = handle[group][name]
                text = h5py.check_string_dtype(variable.dtype) is not None
                numeric = variable.dtype.kind in "biuf"
                if (text and name not in {*LABELS, "divergence_message"}) or not (text or numeric):
                    raise FitFileError(
                        f"{path}: {group}/{name} has values of type {variable.dtype}, not numbers"
                    )
    missing = [
        name for name in ("posterior", "sample_stats", "observed_data") if name not in present
    ]
    if missing:
        raise FitFileError(f"{path}: missing groups {', '.join(missing)}")
    groups = {}
    try:
        for group in present:
            with xr.open_dataset(path, group=group, engine=ENGINE) as dataset:
                groups[f"/{group}"] = dataset.load()
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise FitFileError(f"{path}: not a readable netCDF file ({_reason(err)})") from None
    for dataset in groups.values():
        dataset.attrs = {}
    return xr.DataTree.from_dict(groups)


def _allowed_variables(spec: ModelSpec) -> dict[str, set[str] | None]:
    """Group -> the variables (and coordinates) the format lets it hold (``None``:
    any numeric ones, as for the sample statistics, which vary with nutpie's version)."""
    data = {*spec.law_obj.inputs, *DATA_COLUMNS}
    return {
        "posterior": {*_posterior_names(spec), "chain", "draw", *LABELS},
        "sample_stats": None,
        "observed_data": {*data, "obs"},
        "excluded_data": {*data, "excluded"} - {"y_start"},
    }


def _posterior_names(spec: ModelSpec) -> list[str]:
    law = spec.law_obj
    likelihood = spec.likelihood_obj
    return list(
        dict.fromkeys(
            [
                *law.parameters,
                *law.moved(spec.shared),
                *(f"{name}_run" for name in spec.varying),
                *(hierarchy_prior_name(law, name) for name in spec.varying),
                *likelihood.parameters,
                *likelihood.derived,
                *spec.priors,
            ]
        )
    )


def checksums(tree: xr.DataTree) -> dict[str, str]:
    """Group -> SHA-256 of its variables and coordinates (names, dtypes, shapes,
    values), for the groups of :data:`CHECKED_GROUPS` the tree has."""
    out = {}
    for group in CHECKED_GROUPS:
        if group not in tree.children:
            continue
        dataset = tree[group].to_dataset()
        digest = hashlib.sha256()
        for name in sorted(map(str, dataset.variables)):
            values = np.asarray(dataset[name].values)
            digest.update(f"{name}|{values.shape}|".encode())
            if values.dtype.kind in "OUS":
                for item in values.ravel():
                    text = str(item.decode() if isinstance(item, bytes) else item).encode()
                    digest.update(len(text).to_bytes(8, "little") + text)
            else:
                canonical = "<i8" if values.dtype.kind in "biu" else "<f8"
                digest.update(np.ascontiguousarray(values, dtype=canonical).tobytes())
        out[group] = digest.hexdigest()
    return out


def _check_checksums(tree: xr.DataTree, recorded: Mapping[str, Any]) -> None:
    found = checksums(tree)
    if set(recorded) != set(found):
        raise ValueError(
            f"checksums recorded for {', '.join(sorted(recorded)) or 'no group'}, "
            f"but the file has {', '.join(sorted(found))}"
        )
    for group, digest in found.items():
        if recorded[group] != digest:
            raise ValueError(f"{group} does not match its recorded SHA-256 (edited or damaged)")


def _law_error(attrs: Mapping[str, Any], spec: ModelSpec) -> LawError | None:
    """The fit's learned law error (``None`` for fits that learned none), checked
    against the law's inputs."""
    values = json.loads(attrs["law_error"])
    if values is None:
        return None
    error = LawError.from_dict(values)
    if set(error.ranges) != set(spec.law_obj.inputs):
        raise ValueError("law_error.ranges do not name the law's inputs")
    return error


def _json(attrs: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = json.loads(attrs[name])
    if not isinstance(value, dict):
        raise ValueError(f"attribute {name!r} is not a JSON object")
    return value


def _read_attributes(
    attrs: Mapping[str, Any],
) -> tuple[ModelSpec, SamplerSettings, Diagnostics, dict[str, Any]]:
    spec_dict = _json(attrs, "spec")
    get_law(_str(spec_dict["law"], "spec.law"))
    get_likelihood(_str(spec_dict["likelihood"], "spec.likelihood"))
    priors = spec_dict["priors"]
    if not isinstance(priors, dict):
        raise TypeError("spec.priors is not a JSON object")
    spec = ModelSpec(
        law=spec_dict["law"],
        likelihood=spec_dict["likelihood"],
        varying=tuple(_str_list(spec_dict["varying"], "spec.varying")),
        shared=tuple(_str_list(spec_dict["shared"], "spec.shared")),
        priors={str(name): prior_from_dict(p) for name, p in priors.items()},
    )
    sampler = _sampler(_json(attrs, "sampler"))
    diagnostics = _diagnostics(_json(attrs, "diagnostics"))
    data_info = _json(attrs, "data")
    missing = [key for key in ("columns", "source", "notes") if key not in data_info]
    if missing:
        raise KeyError(f"data.{missing[0]}")
    return spec, sampler, diagnostics, data_info


def _sampler(values: dict[str, Any]) -> SamplerSettings:
    """Sampler settings with every field of its type and range."""
    unknown = sorted(set(values) - set(SamplerSettings.__dataclass_fields__))
    if unknown:
        raise ValueError(f"sampler.{unknown[0]} is not a sampler setting")
    for name in ("draws", "tune", "chains"):
        _whole(values.get(name), f"sampler.{name}", low=0 if name == "tune" else 1)
    if values.get("cores") is not None:
        _whole(values["cores"], "sampler.cores", low=1)
    try:
        check_seed(values.get("seed"))
    except ValueError as err:
        raise ValueError(f"sampler.{err}") from None
    accept = values.get("target_accept")
    if accept is not None and not (_is_number(accept) and 0 < accept < 1):
        raise ValueError(f"sampler.target_accept must lie in (0, 1), got {accept!r}")
    return SamplerSettings(**values)


def _diagnostics(values: dict[str, Any]) -> Diagnostics:
    """Diagnostics with numbers where numbers belong and text where text does."""
    for name in ("max_r_hat", "min_ess_bulk"):
        if not _is_number(values.get(name)):
            raise TypeError(f"diagnostics.{name} is {values.get(name)!r}, not a number")
    _whole(values.get("divergences"), "diagnostics.divergences", low=0)
    for name in ("warnings", "notes"):
        _str_list(values.get(name, []), f"diagnostics.{name}")
    rows = values.get("prior_reliance", [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise TypeError("diagnostics.prior_reliance is not a list of JSON objects")
    for row in rows:
        if not isinstance(row.get("leans_on_prior"), bool):
            raise TypeError("diagnostics.prior_reliance: leans_on_prior is not true or false")
        for key in ("recipe", "parameter"):
            _str(row.get(key), f"diagnostics.prior_reliance.{key}")
    predictive = values.get("predictive")
    if predictive is not None and not isinstance(predictive, dict):
        raise TypeError("diagnostics.predictive is not a JSON object")
    unknown = sorted(set(values) - set(Diagnostics.__dataclass_fields__))
    if unknown:
        raise ValueError(f"diagnostics.{unknown[0]} is not a diagnostic")
    return Diagnostics(**values)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _whole(value: Any, name: str, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return value


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} is {value!r}, not text")
    return value


def _str_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list):
        raise TypeError(f"{name} is not a list")
    return [_str(item, name) for item in value]


def _str_dict(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError(f"{name} is not a JSON object")
    return {_str(k, name): _str(v, name) for k, v in value.items()}


def _optional_str(value: Any, name: str) -> str | None:
    return None if value is None else _str(value, name)


def _bounds(value: Any, name: str = "data.bounds") -> tuple[float | None, float | None]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise TypeError(f"{name} is not a pair")
    for item in value:
        if item is not None and not (_is_number(item) and math.isfinite(item)):
            raise TypeError(f"{name} holds {item!r}, not a finite number")
    return (value[0], value[1])


def _excluded_frame(tree: xr.DataTree, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows outside the fitted window (none in files that did not keep them)."""
    if "excluded_data" not in tree.children:
        return frame.drop(columns="y_start", errors="ignore").iloc[:0]
    rows = tree["excluded_data"].to_dataset()
    out = pd.DataFrame({name: values.to_numpy() for name, values in rows.items()})
    for column in ("run", "recipe"):
        out[column] = out[column].astype(str)
    return out


def _observed_frame(observed: xr.Dataset, spec: ModelSpec) -> pd.DataFrame:
    needed = {"y", "run", "recipe", "row", *spec.law_obj.inputs}
    missing = sorted(needed - set(observed.data_vars))
    if missing:
        raise ValueError(f"observed_data lacks {', '.join(missing)}")
    frame = pd.DataFrame({name: values.to_numpy() for name, values in observed.items()})
    for column in ("run", "recipe"):
        frame[column] = frame[column].astype(str)
    return frame


def _check_posterior(
    tree: xr.DataTree, spec: ModelSpec, sampler: SamplerSettings, frame: pd.DataFrame
) -> None:
    """Every variable a summary reads, with the sizes the settings promise and
    finite values inside each parameter's support."""
    post = tree["posterior"].to_dataset()
    needed = _posterior_names(spec)
    missing = [name for name in needed if name not in post.data_vars]
    if missing:
        raise ValueError(f"posterior lacks {', '.join(missing)}")
    for name in needed:
        if post[name].dims[:2] != ("chain", "draw"):
            raise ValueError(f"posterior variable {name} has dims {post[name].dims}")
    sizes = (post.sizes["chain"], post.sizes["draw"])
    if sizes != (sampler.chains, sampler.draws):
        raise ValueError(
            f"posterior has {sizes[0]} chains x {sizes[1]} draws; the settings say "
            f"{sampler.chains} x {sampler.draws} (an interrupted fit?)"
        )
    for label in ("run", "recipe"):
        if label in post.coords and list(map(str, post[label].values)) != list(
            dict.fromkeys(frame[label])
        ):
            raise ValueError(f"posterior {label} labels do not match observed_data")
    for name in needed:
        values = post[name].to_numpy()
        if not np.isfinite(values).all():
            raise ValueError(f"posterior {name} holds values that are not finite numbers")
        low, high = _support(spec, name)
        outside = (values < low) | (values > high)
        if outside.any():
            raise ValueError(
                f"posterior {name} holds {values[outside].flat[0]:g}, outside its support "
                f"[{low:g}, {high:g}]"
            )


def _support(spec: ModelSpec, name: str) -> tuple[float, float]:
    """The values parameter ``name`` can take: the law's range for law parameters
    and their run-level values, the prior family's support for the rest."""
    law = spec.law_obj
    base = name.removesuffix("_run")
    if base in law.parameters:
        return law.parameter_range(base)
    prior = spec.priors.get(name)
    if prior is None:  # derived noise scales (sigma, drift_sd) and run spreads
        return (0.0, np.inf) if name.startswith(("sigma", "drift_sd")) else (-np.inf, np.inf)
    if prior.dist == "Beta":
        return (0.0, 1.0)
    if prior.dist in ("Uniform", "TruncatedNormal"):
        return (float(np.min(prior.params["lower"])), float(np.max(prior.params["upper"])))
    if prior.dist in POSITIVE_FAMILIES:
        return (0.0, np.inf)
    return (-np.inf, np.inf)


def _check_source(path: Path, curves: CurveData) -> None:
    """Refuse a fit whose source file exists but holds other bytes now."""
    if curves.path is None or curves.sha256 is None:
        return
    source = Path(curves.path)
    if not source.is_file():
        return
    try:
        digest = hashlib.sha256()
        with source.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return
    if digest.hexdigest() != curves.sha256:
        raise FitFileError(
            f"{path}: its data source {source} changed after the fit (different SHA-256); "
            "restore the file, or load without check_source"
        )
