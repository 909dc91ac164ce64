"""The ``crism`` xarray backend entry point: it only delegates."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import xarray as xr
from xarray.backends import BackendEntrypoint

from .dataset import decode_dataset, open_crism_dataset

__all__ = ["CrismBackendEntrypoint"]

_LABEL_SUFFIXES = (".lbl", ".lbl.txt")
_PDS4_MARK = b"pds.nasa.gov/pds4"


class CrismBackendEntrypoint(BackendEntrypoint):
    """Open MRO CRISM (PDS3, PDS4) and Mars 2020 Mastcam-Z calibrated products as lazy Datasets."""

    description = "MRO CRISM and Mastcam-Z PDS products as labelled, lazy Datasets (xarray-crism)"
    url = "https://github.com/xarray-crism/xarray-crism"
    supports_groups = True
    open_dataset_parameters = (
        "filename_or_obj", "drop_variables", "mask_and_scale", "ddr", "sidecar_dirs", "storage_options", "bayer",
        "georeference", "lat_lon", "ddr_check",
    )

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike[str],
        *,
        drop_variables: Iterable[str] | None = None,
        mask_and_scale: bool = True,
        ddr: str | os.PathLike[str] | None = None,
        sidecar_dirs: Sequence[str | os.PathLike[str]] = (),
        storage_options: dict[str, Any] | None = None,
        bayer: str = "raw",
        georeference: bool = True,
        lat_lon: bool = False,
        ddr_check: bool = True,
    ) -> xr.Dataset:
        """Open one product lazily: ``xr.open_dataset(path_or_url, engine="crism", ...)`` calls this.

        ``filename_or_obj``: a PDS3 ``.LBL``, a PDS4 ``.xml``, an ``.IMG`` with an attached label (or
        its detached label beside it), as a local path or any fsspec URL (``storage_options`` for it).
        ``ddr``: ``"auto"`` joins the DDR found beside the product (or in ``sidecar_dirs``), a path
        joins that DDR label. ``sidecar_dirs``: more directories or URLs to look for companions in
        (DDR, WA/SW wavelength CDRs, WV tables). ``bayer="split"``: a Mastcam-Z raw Bayer mosaic as
        R, G, B planes (an error on other products). ``georeference``: map-projected products get
        ``y``/``x`` and ``spatial_ref`` (``lat_lon=True``: also 2-D ``lat``/``lon``).
        ``mask_and_scale`` and ``drop_variables`` are xarray's. Only labels are read here; data are
        read by byte range when used.
        """
        ds = open_crism_dataset(
            filename_or_obj, ddr=ddr, sidecar_dirs=sidecar_dirs, storage_options=storage_options,
            drop_variables=drop_variables, bayer=bayer, georeference=georeference, lat_lon=lat_lon, ddr_check=ddr_check,
        )
        return decode_dataset(ds, mask_and_scale)

    def open_groups_as_dict(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike[str],
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
        """The groups of :meth:`open_datatree`, as a dict of Datasets (``xr.open_groups``)."""
        from .tree import open_crism_groups

        return open_crism_groups(
            filename_or_obj, drop_variables=drop_variables, mask_and_scale=mask_and_scale, ddr=ddr,
            sidecar_dirs=sidecar_dirs, storage_options=storage_options, bayer=bayer, georeference=georeference,
            lat_lon=lat_lon,
        )

    def open_datatree(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike[str],
        *,
        drop_variables: Iterable[str] | None = None,
        mask_and_scale: bool = True,
        ddr: str | os.PathLike[str] | None = None,
        sidecar_dirs: Sequence[str | os.PathLike[str]] = (),
        storage_options: dict[str, Any] | None = None,
        bayer: str = "raw",
        georeference: bool = True,
        lat_lon: bool = False,
    ) -> xr.DataTree:
        """A product's whole set as a tree (``xr.open_datatree(path, engine="crism", ...)``): one group per
        member (``/IF``, ``/DE``, ``/WV``, ...); ``ddr`` and ``bayer`` apply to the product opened's group,
        the other keywords as in :meth:`open_dataset`."""
        groups = self.open_groups_as_dict(
            filename_or_obj, drop_variables=drop_variables, mask_and_scale=mask_and_scale, ddr=ddr,
            sidecar_dirs=sidecar_dirs, storage_options=storage_options, bayer=bayer, georeference=georeference,
            lat_lon=lat_lon,
        )
        return xr.DataTree.from_dict(groups)

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        try:
            name = os.fspath(filename_or_obj)
        except TypeError:
            return False
        name = str(name)
        if name.lower().endswith(".xml"):
            return _is_pds4(name)
        return name.lower().endswith(_LABEL_SUFFIXES)


def _is_pds4(name: str) -> bool:
    """A local ``.xml`` is claimed when its head names the PDS4 namespace; a remote one always."""
    if "://" in name:
        return True
    try:
        with open(name, "rb") as f:
            return _PDS4_MARK in f.read(4096)
    except OSError:
        return False
