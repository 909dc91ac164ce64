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

import itertools
import os
import posixpath
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from intake.readers.datatypes import FileData
from intake.readers.entry import Catalog, ReaderDescription
from intake.readers.readers import BaseReader
from intake.readers.utils import LazyDict

from ..errors import CrismError, SidecarNotFoundError
from .catalog import (
    CatalogEntry,
    EntrySidecars,
    build_entry,
    build_query,
    build_sidecars,
    check_entry_product,
    entry_name,
    entry_rows,
    select_rows,
)
from .volumes import Volume, read_volume

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CrismCatalog", "CrismDatasetReader", "CrismProduct", "CrismVolume", "CrismVolumeReader", "LazyEntries", "build_catalog",
    "build_reader", "open_catalog",
]


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


class LazyEntries(LazyDict):
    """The entries of a :class:`CrismCatalog`, each made when it is asked for (Intake's ``LazyDict``).

    ``positions`` maps each name to its row; ``describe(row)`` makes that row's reader description.
    Listing, counting and membership use the names only. Entries added later (``cat[name] = reader``)
    are kept as given, and deleted names are forgotten, as in a plain dict.
    """

    def __init__(self, positions: dict[str, int], describe: Callable[[int], ReaderDescription]) -> None:
        self._positions = positions
        self._describe = describe
        self._added: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self._added:
            return self._added[key]
        if key not in self._positions:
            raise KeyError(key)
        return self._describe(self._positions[key])

    def __iter__(self) -> Iterator[str]:
        yield from self._positions
        yield from (key for key in self._added if key not in self._positions)

    def __len__(self) -> int:
        return len(self._positions) + sum(key not in self._positions for key in self._added)

    def __contains__(self, key: object) -> bool:
        return key in self._positions or key in self._added

    def keys(self) -> KeysView[str]:
        return KeysView(self)

    def __setitem__(self, key: str, value: Any) -> None:
        self._added[key] = value

    def pop(self, key: str, default: Any = None) -> Any:
        """Remove ``key`` and return its entry (``default`` if absent), as ``dict.pop``."""
        if key not in self:
            return default
        value = self[key]
        self._positions.pop(key, None)
        self._added.pop(key, None)
        return value

    def update(self, other: Mapping[str, Any]) -> None:
        """Add (or replace) the entries of ``other``."""
        self._added.update(other)


class CrismCatalog(Catalog):
    """An Intake catalog whose product names may be given in any case (``cat["frt00014679_01_if156s_trr3"]``).

    Its entries are made on access (:class:`LazyEntries`); saving it (``to_yaml_file``, ``to_dict``)
    makes every entry, as Intake's own catalogs hold them.
    """

    def __getitem__(self, item: Any) -> Any:
        return super().__getitem__(self._alias(item))

    def __contains__(self, thing: Any) -> bool:
        return bool(super().__contains__(self._alias(thing)))

    def __repr__(self) -> str:
        names = list(itertools.islice(self.aliases, 5))
        more = f", ... ({len(self.aliases):,} in all)" if len(self.aliases) > len(names) else ""
        return f"{type(self).__name__} of {len(self.aliases):,} products: {', '.join(names)}{more}"

    def to_dict(self) -> dict[str, Any]:
        """The catalog as Intake writes it: every entry made, its product as a data description."""
        if not isinstance(self.entries, LazyEntries):
            return dict(super().to_dict())
        full = Catalog(metadata=self.metadata, user_parameters=self.user_parameters)
        for name, key in self.aliases.items():
            full.aliases[name] = full.add_entry(self.entries[key])
        return dict(full.to_dict())

    def _alias(self, item: Any) -> Any:
        """The alias that ``item`` names in another case (file names are lower case, PRODUCT_IDs upper)."""
        if not isinstance(item, str) or item in self.aliases or item in self.entries or item in self.data:
            return item
        if item.upper() in self.aliases:
            return item.upper()
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
    rows = select_rows(volume.index, query, volume.root.url)
    metadata = {
        "volume_root": volume.root.url, "path_case": volume.path_case, "index": volume.index.attrs["label"],
        "ddr_volume": _root(others["ddr"]), "cdr_volume": _root(others["cdr"]), "joined": join,
        "query": query.as_metadata(),
    }
    sidecars = build_sidecars(others["ddr"], others["cdr"])
    return build_catalog(volume, rows, sidecars, storage_options=storage_options, join=join, metadata=metadata)


def build_catalog(
    volume: Volume, rows: pd.DataFrame, sidecars: EntrySidecars, *, storage_options: dict[str, Any] | None, join: bool,
    metadata: dict[str, Any],
) -> CrismCatalog:
    """An Intake catalog of one :class:`CrismDatasetReader` per row of ``rows`` (of ``volume``'s index), made on access.

    Entries are keyed and aliased by their names (upper-case ``PRODUCT_ID``: a name listed twice is
    its last row, as an alias set twice), so ``list(cat)`` and ``cat[name]`` use them. Only the names
    are made here; ``cat[name]`` builds that entry from its row (:class:`LazyEntries`). The catalog keeps
    the columns entries are built from (:func:`~xarray_crism.archive.catalog.entry_rows`), not the index.
    """
    frame = entry_rows(rows)
    frame.attrs = dict(volume.index.attrs)
    kept = Volume(volume.root, frame, volume.path_case, volume.detached_labels)  # the catalog holds this, not the index

    def describe(position: int) -> ReaderDescription:
        entry = build_entry(kept, frame.iloc[[position]].to_dict("records")[0], sidecars)
        return build_reader(entry, storage_options=storage_options, join=join).to_entry()

    positions = {entry_name(pid): i for i, pid in enumerate(frame["PRODUCT_ID"])}
    return CrismCatalog(entries=LazyEntries(positions, describe), aliases={name: name for name in positions}, metadata=metadata)


def build_reader(entry: CatalogEntry, *, storage_options: dict[str, Any] | None, join: bool) -> CrismDatasetReader:
    """The reader of one catalog entry (with its DDR and wavelength directories when ``join``)."""
    data = CrismProduct(entry.url, storage_options=storage_options, metadata={**entry.metadata, "product_id": entry.name})
    kwargs: dict[str, Any] = {}
    if join and entry.ddr is not None:
        kwargs["ddr"] = entry.ddr
    if join and entry.sidecar_dirs:
        kwargs["sidecar_dirs"] = list(entry.sidecar_dirs)
    return CrismDatasetReader(data=data, metadata={"product_id": entry.name, **entry.metadata, "joined": join}, **kwargs)


def _root(volume: Volume | None) -> str | None:
    return None if volume is None else volume.root.url
