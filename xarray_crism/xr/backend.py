"""The ``crism`` xarray backend entry point: it only delegates."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Sequence
from typing import Any

import fsspec
import xarray as xr
from xarray.backends import BackendEntrypoint

from .dataset import open_crism_dataset
from .indexes import set_wavelength_index

__all__ = ["CrismBackendEntrypoint"]

_LABEL_SUFFIXES = (".lbl", ".lbl.txt")
_PDS4_MARK = b"pds.nasa.gov/pds4"
#: Data files claimed when they start with an attached PDS3/ODL label or have a detached one beside them.
_DATA_SUFFIXES = (".img",)
#: The detached labels looked for beside a data file: its stem as written, upper-cased, lower-cased.
_BESIDE_NAMES = ("{stem}.lbl", "{stem}.LBL", "{upper}.LBL", "{lower}.lbl")
#: Bytes read from the head of a data file to recognise an attached label (one ranged read).
GUESS_BYTES = 256
#: The first keyword of an attached label: Mastcam-Z IMGs start ``ODL_VERSION_ID = ODL3``.
_ATTACHED_LABEL = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:ODL_VERSION_ID|PDS_VERSION_ID)\s*=")


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
            mask_and_scale=mask_and_scale,
        )
        return set_wavelength_index(ds)

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
        """Claim (for ``xr.open_dataset`` without ``engine=``) labels, PDS4 XML and data files with a label.

        A ``.lbl`` is claimed by its name; a ``.xml`` when its head names the PDS4 namespace; an
        ``.img`` when its first :data:`GUESS_BYTES` bytes are an attached ODL/PDS3 label
        (Mastcam-Z) or a ``.lbl``/``.LBL`` of the same name is beside it (CRISM), locally or at
        any fsspec URL (one ranged read, and one existence check per label name).
        """
        try:
            name = str(os.fspath(filename_or_obj))
        except TypeError:
            return False
        lower = name.lower()
        if lower.endswith(".xml"):
            return _is_pds4(name)
        if lower.endswith(_DATA_SUFFIXES):
            return _has_label(name)
        return lower.endswith(_LABEL_SUFFIXES)


def _has_label(name: str) -> bool:
    """A data file that starts with an attached label, or has a detached one beside it; never raises."""
    try:
        fs, path = fsspec.core.url_to_fs(name)
        if _ATTACHED_LABEL.match(bytes(fs.cat_file(path, start=0, end=GUESS_BYTES))):
            return True
        return any(fs.exists(beside) for beside in _beside_labels(path))
    except Exception:  # guessing must not fail: any unreadable file is simply not claimed
        return False


def _beside_labels(path: str) -> list[str]:
    """The label paths looked for beside the data file ``path`` (each once)."""
    directory, name = posixpath.split(path)
    stem = posixpath.splitext(name)[0]
    names = dict.fromkeys(n.format(stem=stem, upper=stem.upper(), lower=stem.lower()) for n in _BESIDE_NAMES)
    return [posixpath.join(directory, n) for n in names]


def _is_pds4(name: str) -> bool:
    """A local ``.xml`` is claimed when its head names the PDS4 namespace; a remote one always."""
    if "://" in name:
        return True
    try:
        with open(name, "rb") as f:
            return _PDS4_MARK in f.read(4096)
    except OSError:
        return False
