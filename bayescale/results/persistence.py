"""Save and load fits as netCDF: the ArviZ DataTree plus JSON attributes.

No pickle anywhere: the posterior, the sample statistics and the fitted data are
netCDF groups; the model spec, priors, sampler settings, diagnostics and version
are JSON strings in the root attributes. Loading a file from someone else reads
numbers and text and runs no code.

A file is written to a temporary name beside its target and renamed into
place when complete (:mod:`bayescale.results.output`), so a failed write never leaves a
truncated fit; an existing file is replaced only with ``overwrite=True``.
Loading checks every attribute and group the fit needs and refuses, in one line
naming the file, anything inconsistent, including a fit whose source data file
was changed after the fit.

Examples
--------
>>> fit.save("fit.nc")  # doctest: +SKIP
>>> same = bayescale.load("fit.nc")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from bayescale.data.curves import CurveData
from bayescale.inference.law_error import LawError
from bayescale.model.build import ModelSpec
from bayescale.model.laws import get_law
from bayescale.model.likelihoods.registry import get_likelihood
from bayescale.model.priors import hierarchy_prior_name, prior_from_dict
from bayescale.results.fit_result import Diagnostics, Fit
from bayescale.results.output import write_file
from bayescale.results.provenance import SamplerSettings

FORMAT = "bayescale-fit/1"
ENGINE = "h5netcdf"


class FitFileError(ValueError):
    """A file that is not a bayescale fit, or one this version cannot read."""


def save_fit(fit: Fit, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``fit`` to a netCDF file, atomically.

    Parameters
    ----------
    fit : Fit
    path : str or Path
    overwrite : bool
        Replace an existing file (refused otherwise, as on the command line).

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
    content = netcdf_bytes(fit)
    return write_file(path, lambda temp: temp.write_bytes(content), overwrite=overwrite)


def netcdf_bytes(fit: Fit) -> bytes:
    """The netCDF file of ``fit``, made in memory.

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
        "bayescale_format": FORMAT,
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
    }
    buffer = io.BytesIO()
    tree.to_netcdf(buffer, engine=ENGINE)
    return buffer.getvalue()


def load_fit(path: str | Path, *, check_source: bool = True) -> Fit:
    """Read a fit written by :func:`save_fit`.

    Parameters
    ----------
    path : str or Path
    check_source : bool
        Refuse the fit when its source data file still exists but no longer
        holds the bytes that were fitted (it would, e.g., plot another file's
        rows as held-out points).

    Raises
    ------
    FitFileError
        If the file is missing, unreadable, not a bayescale fit of this format,
        inconsistent (damaged attributes, missing groups or variables, fewer
        draws than its settings say), or its source changed.
    """
    path = Path(path)
    if path.is_dir():
        raise FitFileError(f"{path}: is a folder, not a fit file")
    if not path.is_file():
        raise FitFileError(f"{path}: no such file")
    try:
        with xr.open_datatree(path, engine=ENGINE) as tree:
            tree = tree.load()
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FitFileError(f"{path}: not a readable netCDF file ({first})") from None
    attrs = tree.attrs
    found = attrs.get("bayescale_format")
    if found != FORMAT:
        what = (
            "not a bayescale fit file"
            if found is None
            else f"format {found!r}, expected {FORMAT!r}"
        )
        raise FitFileError(f"{path}: {what}")
    missing = {"posterior", "sample_stats", "observed_data"} - set(tree.children)
    if missing:
        raise FitFileError(f"{path}: missing groups {', '.join(sorted(missing))}")
    try:
        spec, sampler, diagnostics, data_info = _read_attributes(attrs)
        law_error = _law_error(attrs)
        frame = _observed_frame(tree["observed_data"].to_dataset(), spec)
        _check_posterior(tree, spec, sampler, frame)
        curves = CurveData(
            frame=frame,
            columns={str(k): str(v) for k, v in data_info["columns"].items()},
            source=str(data_info["source"]),
            notes=[str(note) for note in data_info["notes"]],
            path=_optional_str(data_info.get("path")),
            sha256=_optional_str(data_info.get("sha256")),
            excluded=_excluded_frame(tree, frame),
            bounds=tuple(data_info.get("bounds", (None, None))),
            min_points=int(data_info.get("min_points", 1)),
            base_notes=[str(note) for note in data_info.get("base_notes", [])],
        )
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as err:
        what = f"missing {err}" if isinstance(err, KeyError) else str(err).splitlines()[0]
        raise FitFileError(f"{path}: damaged bayescale attributes ({what})") from None
    if check_source:
        _check_source(path, curves)
    tree.attrs = {}
    return Fit(
        tree=tree,
        data=curves,
        spec=spec,
        sampler=sampler,
        diagnostics=diagnostics,
        times=None,
        version=str(attrs.get("bayescale_version", "")),
        law_error=law_error,
    )


def _law_error(attrs: Mapping[str, Any]) -> LawError | None:
    """The fit's learned law error (``None`` for fits that learned none)."""
    values = json.loads(attrs["law_error"])
    return None if values is None else LawError.from_dict(values)


def _json(attrs: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = json.loads(attrs[name])
    if not isinstance(value, dict):
        raise ValueError(f"attribute {name!r} is not a JSON object")
    return value


def _read_attributes(
    attrs: Mapping[str, Any],
) -> tuple[ModelSpec, SamplerSettings, Diagnostics, dict[str, Any]]:
    spec_dict = _json(attrs, "spec")
    get_law(spec_dict["law"])
    get_likelihood(spec_dict["likelihood"])
    spec = ModelSpec(
        law=spec_dict["law"],
        likelihood=spec_dict["likelihood"],
        varying=tuple(map(str, spec_dict["varying"])),
        shared=tuple(map(str, spec_dict["shared"])),
        priors={str(name): prior_from_dict(p) for name, p in spec_dict["priors"].items()},
    )
    sampler = SamplerSettings(**_json(attrs, "sampler"))
    diagnostics = Diagnostics(**_json(attrs, "diagnostics"))
    data_info = _json(attrs, "data")
    missing = [key for key in ("columns", "source", "notes") if key not in data_info]
    if missing:
        raise KeyError(f"data.{missing[0]}")
    return spec, sampler, diagnostics, data_info


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


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
    """Every variable a summary reads, with the sizes the settings promise."""
    law = spec.law_obj
    post = tree["posterior"].to_dataset()
    needed = [
        *law.parameters,
        *(f"{name}_run" for name in spec.varying),
        *(hierarchy_prior_name(law, name) for name in spec.varying),
        *spec.likelihood_obj.parameters,
    ]
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


def _check_source(path: Path, curves: CurveData) -> None:
    """Refuse a fit whose source file exists but holds other bytes now."""
    if curves.path is None or curves.sha256 is None:
        return
    source = Path(curves.path)
    if not source.is_file():
        return
    try:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError:
        return
    if digest != curves.sha256:
        raise FitFileError(
            f"{path}: its data source {source} changed after the fit (different SHA-256); "
            "restore the file, or load with check_source=False"
        )
