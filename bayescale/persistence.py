"""Save and load fits as netCDF: the ArviZ DataTree plus JSON attributes.

No pickle anywhere: the posterior, the sample statistics and the fitted data are
netCDF groups; the model spec, priors, sampler settings, diagnostics and version
are JSON strings in the root attributes. Loading a file from someone else reads
numbers and text and runs no code.

Examples
--------
>>> fit.save("fit.nc")  # doctest: +SKIP
>>> same = bayescale.load("fit.nc")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import xarray as xr

from bayescale.data import CurveData
from bayescale.laws import get_law
from bayescale.likelihoods import get_likelihood
from bayescale.model import ModelSpec
from bayescale.priors import prior_from_dict
from bayescale.result import Diagnostics, Fit
from bayescale.sampling import SamplerSettings

FORMAT = "bayescale-fit/1"
ENGINE = "h5netcdf"


class FitFileError(ValueError):
    """A file that is not a bayescale fit, or one this version cannot read."""


def save_fit(fit: Fit, path: str | Path) -> Path:
    """Write ``fit`` to a netCDF file (overwriting ``path``).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    tree = fit.posterior.copy()
    tree.attrs = {
        "bayescale_format": FORMAT,
        "bayescale_version": fit.version,
        "spec": json.dumps(fit.spec.to_dict()),
        "sampler": json.dumps(fit.sampler.to_dict()),
        "diagnostics": json.dumps(fit.diagnostics.to_dict()),
        "data": json.dumps(
            {"columns": fit.data.columns, "source": fit.data.source, "notes": fit.data.notes}
        ),
    }
    tree.to_netcdf(path, engine=ENGINE)
    return path


def load_fit(path: str | Path) -> Fit:
    """Read a fit written by :func:`save_fit`.

    Raises
    ------
    FitFileError
        If the file is missing, unreadable, or not a bayescale fit of this format.
    """
    path = Path(path)
    if not path.is_file():
        raise FitFileError(f"{path}: no such file")
    try:
        with xr.open_datatree(path, engine=ENGINE) as tree:
            tree = tree.load()
    except (OSError, ValueError) as err:
        raise FitFileError(f"{path}: not a readable netCDF file ({err})") from None
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
        spec_dict = json.loads(attrs["spec"])
        get_law(spec_dict["law"])
        get_likelihood(spec_dict["likelihood"])
        spec = ModelSpec(
            law=spec_dict["law"],
            likelihood=spec_dict["likelihood"],
            varying=tuple(spec_dict["varying"]),
            shared=tuple(spec_dict["shared"]),
            priors={name: prior_from_dict(p) for name, p in spec_dict["priors"].items()},
        )
        sampler = SamplerSettings(**json.loads(attrs["sampler"]))
        diagnostics = Diagnostics(**json.loads(attrs["diagnostics"]))
        data_info = json.loads(attrs["data"])
    except (KeyError, TypeError, ValueError) as err:
        raise FitFileError(f"{path}: damaged bayescale attributes ({err})") from None
    frame = pd.DataFrame(
        {name: values.to_numpy() for name, values in tree["observed_data"].to_dataset().items()}
    )
    for column in ("run", "recipe"):
        frame[column] = frame[column].astype(str)
    curves = CurveData(
        frame=frame,
        columns=dict(data_info["columns"]),
        source=str(data_info["source"]),
        notes=list(data_info["notes"]),
    )
    tree.attrs = {}
    return Fit(
        posterior=tree,
        data=curves,
        spec=spec,
        sampler=sampler,
        diagnostics=diagnostics,
        times=None,
        version=str(attrs.get("bayescale_version", "")),
    )
