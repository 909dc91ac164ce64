"""Which VS ADR (volcano-scan transmission) goes with a CRISM product.

The rule, applied to the VS ADRs found (``ADRptttttttttt_xxxxx_VSbwn_v.LBL``, ``xxxxx`` the volcano-scan
observation ID, ``b`` the binning code, ``w`` the wavelength filter, ``n`` the sensor, ``v`` the version):

1. same sensor, binning code (``PIXEL_AVERAGING_WIDTH`` 1, 2, 5, 10 -> 0, 1, 2, 3) and wavelength filter
   as the product (other ADRs cannot be applied: their columns and rows differ);
2. the CRISM team's pairing when known: ``pairing={observation_id: vs_observation_id}`` (the package
   ships no pairing table; CAT users pass the team's choice here);
3. otherwise the volcano scan nearest in time, by observation ID: CRISM observation IDs are assigned in
   time order, so ``|int(obs, 16) - int(vs, 16)|`` orders the scans by time; on a tie the earlier scan;
4. then the highest version (version 8 has the artifact spectra).

``adr="auto"`` searches the product's directory and ``adr_dirs``; a path opens that ADR.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import xarray as xr

from ..errors import LabelValueError, SidecarNotFoundError

__all__ = ["BINNING_CODES", "VS_ADR_NAME", "open_vs_adr", "select_vs_adr"]

#: PIXEL_AVERAGING_WIDTH -> the binning code of ADR names.
BINNING_CODES: dict[int, int] = {1: 0, 2: 1, 5: 2, 10: 3}

#: A VS ADR label name (the label's own comment block; not the SIS's CL/AC/TE ADR pattern).
VS_ADR_NAME = re.compile(
    r"^ADR(?P<partition>\d)(?P<sclk>\d{10})_(?P<vs>[0-9A-F]{5})_VS(?P<bin>\d)(?P<filter>\d)(?P<sensor>[SLJ])_(?P<version>\d+)\.LBL$",
    re.IGNORECASE,
)


def _where(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("product_id", ds.encoding.get("source", "<dataset>")))


def open_vs_adr(
    ds: xr.Dataset, adr: str | os.PathLike[str], *, adr_dirs: Sequence[str | os.PathLike[str]] = (),
    pairing: Mapping[str, str] | None = None,
) -> xr.Dataset:
    """The VS ADR for ``ds`` opened lazily: ``adr`` a label path, or ``"auto"`` (see the module's rule)."""
    if str(adr) != "auto":
        return xr.open_dataset(adr, engine="crism")
    source = ds.encoding.get("source")
    dirs = ([Path(source).parent] if source and "://" not in str(source) else []) + [Path(d) for d in adr_dirs]
    candidates = [p for d in dirs if d.is_dir() for p in sorted(d.iterdir()) if VS_ADR_NAME.match(p.name)]
    return xr.open_dataset(select_vs_adr(ds, candidates, pairing, dirs), engine="crism")


def select_vs_adr(
    ds: xr.Dataset, candidates: Sequence[Path], pairing: Mapping[str, str] | None = None,
    searched: Sequence[Path] = (),
) -> Path:
    """The VS ADR label among ``candidates`` that goes with ``ds`` (see the module's rule)."""
    sensor, binning, wavelength_filter, observation = _product_keys(ds)
    usable = []
    for path in candidates:
        m = VS_ADR_NAME.match(path.name)
        if m and (m["sensor"].upper(), int(m["bin"]), int(m["filter"])) == (sensor, binning, wavelength_filter):
            usable.append((path, m["vs"].upper(), int(m["version"])))
    paired = next((v for k, v in (pairing or {}).items() if int(k, 16) == int(observation, 16)), None)
    if paired is not None:
        usable = [u for u in usable if u[1] == paired.upper()]
    if not usable:
        raise SidecarNotFoundError(
            _where(ds), "VS ADR", f"ADR*_{paired or '*'}_VS{binning}{wavelength_filter}{sensor}_*.LBL",
            f"a VS ADR of binning code {binning}, wavelength filter {wavelength_filter} and sensor {sensor} "
            f"in {[str(d) for d in searched] or 'the product directory'}",
            "put the VS ADRs beside the product or pass adr_dirs=[...], or adr='path/to/ADR..._VS...LBL'",
        )
    target = int(observation, 16)
    return min(usable, key=lambda u: (abs(int(u[1], 16) - target), int(u[1], 16) > target, -u[2]))[0]


def _product_keys(ds: xr.Dataset) -> tuple[str, int, int, str]:
    width = int(ds.attrs.get("pixel_averaging_width", 0) or 0)
    if width not in BINNING_CODES:
        raise LabelValueError(_where(ds), "PIXEL_AVERAGING_WIDTH", width, f"one of {sorted(BINNING_CODES)}")
    try:
        wavelength_filter = int(str(ds.attrs.get("wavelength_filter")))
        observation = f"{int(str(ds.attrs.get('observation_id')), 16):X}"
    except ValueError:
        raise LabelValueError(
            _where(ds), "MRO:WAVELENGTH_FILTER, observation ID",
            (ds.attrs.get("wavelength_filter"), ds.attrs.get("observation_id")),
            "a wavelength filter 0-3 and a hexadecimal observation ID", "pass adr='path/to/ADR..._VS...LBL'",
        ) from None
    return str(ds.attrs.get("sensor", "L")).upper(), BINNING_CODES[width], wavelength_filter, observation.zfill(5)
