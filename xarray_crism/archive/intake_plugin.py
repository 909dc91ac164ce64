"""Intake 2 plugin: CRISM and Mastcam-Z products and archive volumes as Intake data types and readers.

Registered under the ``intake.imports`` entry point, so ``import intake`` imports this module; it
imports nothing heavy (no xarray: the reader imports it when it reads).

- :class:`CrismProduct` (a product's label) is read by :class:`CrismDatasetReader` into the
  ``xarray.Dataset`` that ``xr.open_dataset(url, engine="crism")`` gives, with the sidecars the entry
  names (``ddr``, ``sidecar_dirs``) joined.
- :class:`CrismVolume` (a PDS3 volume root or index label, or a PDS4 bundle) is read by
  :class:`CrismVolumeReader` into an Intake :class:`~intake.readers.entry.Catalog` of its products,
  through :func:`open_catalog`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from intake.readers.datatypes import FileData
from intake.readers.entry import Catalog
from intake.readers.readers import BaseReader

from ..errors import CrismError, SidecarNotFoundError
from .catalog import CatalogEntry, build_entries, build_query, check_entry_product, select_rows
from .volumes import Volume, read_volume

__all__ = ["CrismCatalog", "CrismDatasetReader", "CrismProduct", "CrismVolume", "CrismVolumeReader", "open_catalog"]


class CrismProduct(FileData):
    """One MRO CRISM or Mars 2020 Mastcam-Z product: the URL of its label (or IMG with attached label)."""

    filepattern = r"(?i).*\.(lbl|img)$"
    structure: ClassVar[set[str]] = {"array"}


class CrismVolume(FileData):
    """A PDS3 CRISM archive volume (root or index label) or a Mastcam-Z PDS4 bundle (root)."""

    structure: ClassVar[set[str]] = {"catalog"}


class CrismDatasetReader(BaseReader):
    """Open a :class:`CrismProduct` as an ``xarray.Dataset`` with the ``crism`` backend."""

    implements: ClassVar[set[type]] = {CrismProduct}
    imports: ClassVar[set[str]] = {"xarray"}
    func = "xarray:open_dataset"
    output_instance = "xarray:Dataset"

    def _read(self, data: CrismProduct, **kwargs: Any) -> Any:
        """The Dataset; checks that its label is the entry's product (``metadata["product_id"]``)."""
        import xarray as xr

        try:
            ds = xr.open_dataset(data.url, engine="crism", storage_options=data.storage_options, **kwargs)
        except FileNotFoundError as err:
            raise SidecarNotFoundError(
                data.url, "FILE_SPECIFICATION_NAME", data.url, "the product's label at the path its index row gives",
                "the volume does not hold this product (or its files are cased otherwise: pass path_case=)",
            ) from err
        expected = (data.metadata or {}).get("product_id")
        try:
            if expected is not None:
                check_entry_product(str(expected), ds.attrs.get("product_id"), data.url)
        except CrismError:
            ds.close()
            raise
        return ds

    def __repr__(self) -> str:
        data = self.kwargs.get("data")
        url = getattr(data, "url", "?")
        name = self.metadata.get("product_id") or posixpath.basename(str(url))
        joined = ", with its DDR" if self.kwargs.get("ddr") else ""
        return f"CrismDatasetReader of {name} ({url}{joined}): .read() gives an xarray.Dataset"


class CrismCatalog(Catalog):
    """An Intake catalog whose product names may be given in any case (``cat["frt00014679_01_if156s_trr3"]``)."""

    def __getitem__(self, item: Any) -> Any:
        return super().__getitem__(self._alias(item))

    def __contains__(self, thing: Any) -> bool:
        return bool(super().__contains__(self._alias(thing)))

    def _alias(self, item: Any) -> Any:
        """The alias that ``item`` names in another case (file names are lower case, PRODUCT_IDs upper)."""
        if not isinstance(item, str) or item in self.aliases or item in self.entries or item in self.data:
            return item
        return {alias.upper(): alias for alias in self.aliases}.get(item.upper(), item)


class CrismVolumeReader(BaseReader):
    """Open a :class:`CrismVolume` as an Intake catalog of its products (keywords: :func:`open_catalog`)."""

    implements: ClassVar[set[type]] = {CrismVolume}
    func = "xarray_crism.archive.intake_plugin:open_catalog"
    output_instance = "intake.readers.entry:Catalog"

    def _read(self, data: CrismVolume, **kwargs: Any) -> Catalog:
        kwargs.setdefault("storage_options", data.storage_options)
        return open_catalog(data.url, **kwargs)


def open_catalog(
    url: str | os.PathLike[str],
    *,
    ddr_volume: str | os.PathLike[str] | None = None,
    cdr_volume: str | os.PathLike[str] | None = None,
    storage_options: dict[str, Any] | None = None,
    path_case: str = "auto",
    join: bool = True,
    observation_id: str | Iterable[str] | None = None,
    class_type: str | Iterable[str] | None = None,
    product_type: str | Iterable[str] | None = None,
    sensor: str | Iterable[str] | None = None,
    product_id: str | None = None,
    start: Any = None,
    stop: Any = None,
    bbox: Sequence[float] | None = None,
    sol: int | Sequence[int] | None = None,
    filter: str | int | Iterable[str | int] | None = None,
    eye: str | Iterable[str] | None = None,
    sequence_id: str | Iterable[str] | None = None,
) -> Catalog:
    """A volume's products as an Intake catalog, one entry per product named by its PRODUCT_ID.

    ``url`` is a PDS3 volume root or index label, or a PDS4 bundle root or collection label
    (Mastcam-Z), local or any fsspec URL. ``ddr_volume`` and
    ``cdr_volume`` (roots of the DDR and EDR/CDR volumes) let each entry join its DDR and find its
    WA/SW wavelength calibration; ``join=False`` makes entries read the product alone (the sidecars
    found stay in ``metadata["sidecars"]``). The filters are documented in :mod:`xarray_crism.archive.catalog`
    (Mastcam-Z: ``sol``, ``eye``, ``filter``, ``sequence_id``; everywhere an index has footprints: ``bbox``).
    ``cat[name].read()`` returns the Dataset (``name`` in any case); ``cat.to_yaml_file(path)`` saves the catalog.
    A chained cache URL (``simplecache::https://...``, its options under ``storage_options["simplecache"]``)
    is kept for the index reads and every entry.
    """
    text = os.fspath(url)
    query = build_query(
        text, observation_id=observation_id, class_type=class_type, product_type=product_type, sensor=sensor,
        product_id=product_id, start=start, stop=stop, bbox=bbox, sol=sol, filter=filter, eye=eye,
        sequence_id=sequence_id,
    )
    volume = read_volume(text, storage_options=storage_options, path_case=path_case)
    others = {
        name: None if where is None else read_volume(where, storage_options=storage_options)
        for name, where in (("ddr", ddr_volume), ("cdr", cdr_volume))
    }
    entries = build_entries(volume, select_rows(volume.index, query, volume.root.url), ddr=others["ddr"], cdr=others["cdr"])
    metadata = {
        "volume_root": volume.root.url, "path_case": volume.path_case, "index": volume.index.attrs["label"],
        "ddr_volume": _root(others["ddr"]), "cdr_volume": _root(others["cdr"]), "joined": join,
        "query": query.as_metadata(),
    }
    return build_catalog(entries, storage_options=storage_options, join=join, metadata=metadata)


def build_catalog(
    entries: list[CatalogEntry], *, storage_options: dict[str, Any] | None, join: bool, metadata: dict[str, Any],
) -> Catalog:
    """An Intake catalog holding one :class:`CrismDatasetReader` per entry, aliased by its name.

    Names are aliases (Intake keys entries by token), so ``list(cat)`` and ``cat[name]`` use them.
    """
    cat = CrismCatalog(metadata=metadata)
    for entry in entries:
        data = CrismProduct(entry.url, storage_options=storage_options, metadata={**entry.metadata, "product_id": entry.name})
        kwargs: dict[str, Any] = {}
        if join and entry.ddr is not None:
            kwargs["ddr"] = entry.ddr
        if join and entry.sidecar_dirs:
            kwargs["sidecar_dirs"] = list(entry.sidecar_dirs)
        reader = CrismDatasetReader(data=data, metadata={"product_id": entry.name, **entry.metadata, "joined": join}, **kwargs)
        cat.aliases[entry.name] = cat.add_entry(reader)
    return cat


def _root(volume: Volume | None) -> str | None:
    return None if volume is None else volume.root.url
