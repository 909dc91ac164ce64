"""Whole observations and map tiles as groups: ``xr.open_datatree(path, engine="crism")``.

``open_crism_groups`` opens every member of the product's set
(:func:`~xarray_crism.model.product_sets.find_product_set`) as the Dataset ``engine="crism"`` gives
it, each in a group named by its SIS code (``/IF``, ``/RA``, ``/DE``, ``/SU``, ...), the WV table
as ``/WV`` and a TRDR's WA CDR as ``/WA``. The root group holds the set's name and members.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..formats.products import KINDS
from ..io.sources import Source
from ..model.map_products import WV_ATTRS, read_wv_table
from ..model.product_sets import find_product_set
from ..model.read import read_product
from ..model.sidecars import find_wa_label
from .dataset import open_crism_dataset
from .indexes import set_wavelength_index

__all__ = ["open_crism_groups"]


def open_crism_groups(
    location: str | os.PathLike[str],
    *,
    drop_variables: Iterable[str] | None = None,
    mask_and_scale: bool = True,
    ddr: str | os.PathLike[str] | None = None,
    sidecar_dirs: Sequence[str | os.PathLike[str]] = (),
    storage_options: dict[str, Any] | None = None,
    bayer: str = "raw",
    georeference: bool = True,
    lat_lon: bool = False,
) -> dict[str, xr.Dataset]:
    """``{"/": root, "/IF": ..., "/DE": ..., "/WV": ...}`` for the set ``location`` belongs to.

    ``ddr`` and ``bayer`` apply to the group of the product opened (as ``xr.open_dataset`` applies
    them): its DDR's backplanes joined (the set's ``/DE`` group is the DDR itself), its Bayer mosaic
    split; the other members are opened as they are.
    """
    product, finder = read_product(location, sidecar_dirs=sidecar_dirs, storage_options=storage_options)
    pid = product.product_id
    product_set = find_product_set(pid, finder)
    own_group = "DE" if pid.family == "DDR" else pid.code
    product_set.members[own_group] = product.source  # the file opened, whatever other versions exist
    if pid.family == "TRDR" and (wa := find_wa_label(product, finder)) is not None:
        product_set.members["WA"] = wa
    groups: dict[str, xr.Dataset] = {}
    for group, source in sorted(product_set.members.items()):
        own: dict[str, Any] = {"ddr": ddr, "bayer": bayer} if group == own_group else {}
        ds = open_crism_dataset(
            source.url, sidecar_dirs=sidecar_dirs, storage_options=storage_options, drop_variables=drop_variables,
            georeference=georeference, lat_lon=lat_lon, mask_and_scale=mask_and_scale, **own,
        )
        groups[f"/{group}"] = set_wavelength_index(ds)
    for group, table in product_set.tables.items():
        groups[f"/{group}"] = _wv_dataset(table, pid.family)
    root = {"product_set": product_set.name, "groups": sorted(g.strip("/") for g in groups), "opened_from": product.source.url}
    return {"/": xr.Dataset(attrs=root), **groups}


def _wv_dataset(table: Source, family: str) -> xr.Dataset:
    layout = next(k.band_coordinates for (f, _), k in KINDS.items() if f == family and k.band_coordinates.startswith("wv_"))
    columns = read_wv_table(table, layout)
    coords = {"band": ("band", np.arange(columns["wavelength"].size), {"long_name": "band index (0-based, order of the file)"})}
    data = {name: ("band", values, {**WV_ATTRS[name], "source": table.name}) for name, values in columns.items()}
    return xr.Dataset(data, coords, attrs={"product_id": table.name.rsplit(".", 1)[0].upper(), "source": table.url})
