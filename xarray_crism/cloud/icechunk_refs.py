"""Virtual Icechunk repositories: the archive's files as Zarr v3, in the backend's dimension order.

Icechunk stores Zarr v3, whose ``transpose`` codec lets a chunk stored in the file's order (a BIL
cube's ``(line, band, sample)``) read in the backend's ``(band, line, sample)``; the ``bytes``
codec keeps the file's byte order. xarray writes the metadata (so CF attributes and the small
computed coordinates are exactly what ``engine="crism"`` gives, stored inline); every chunk of a
file array is a virtual reference ``(url, offset, length)`` into the original file, the chunks of
:func:`xarray_crism.cloud.virtual.build_file_chunks`. Reading needs the repository's virtual chunk
containers authorised::

    repo = icechunk.Repository.open(icechunk.local_filesystem_storage(path),
                                    authorize_virtual_chunk_access=xarray_crism.cloud.icechunk_refs.authorizations(path))
    ds = xr.open_zarr(repo.readonly_session("main").store, group=PRODUCT_ID or None, consolidated=False)

Repositories are local directories, and sources local files: Icechunk 1.1 normalises an HTTP
location without its port (``http://host:8000/x`` is stored as ``http://host/x``), so remote sources
are refused rather than referenced wrongly; JSON or parquet references serve them.
"""

from __future__ import annotations

import posixpath
from typing import Any

import numpy as np
import xarray as xr

from ..errors import CrismError
from ..model.product import Product
from ..xr.dataset import build_dataset
from ..xr.indexes import set_wavelength_index
from .virtual import build_file_chunks, unwrap_disk_array

__all__ = ["authorizations", "check_sources", "open_icechunk", "write_icechunk"]


def write_icechunk(products: dict[str, Product], path: str) -> None:
    """Create the repository at ``path`` with every product (``""``: the root) as virtual references."""
    import icechunk

    prefixes = sorted({_prefix(url) for product in products.values() for url in _urls(product)})
    config = icechunk.RepositoryConfig.default()
    for prefix in prefixes:
        config.set_virtual_chunk_container(icechunk.VirtualChunkContainer(prefix, _chunk_store(prefix)))
    repo = icechunk.Repository.create(
        icechunk.local_filesystem_storage(path), config, authorize_virtual_chunk_access=dict.fromkeys(prefixes),
    )
    session = repo.writable_session("main")
    for name, product in sorted(products.items()):
        _write_product(session.store, name, product)
    session.commit(f"xarray-crism: {len(products)} product(s) as virtual references")


def authorizations(path: str) -> dict[str, None]:
    """The virtual chunk containers a repository written here declares, authorised (no credentials)."""
    import icechunk

    config = icechunk.Repository.fetch_config(icechunk.local_filesystem_storage(path))
    containers = config.virtual_chunk_containers if config is not None else {}
    return dict.fromkeys(containers or {})


def open_icechunk(path: str, group: str | None = None) -> xr.Dataset:
    """A product of a repository written by :func:`write_icechunk`, lazily, as plain xarray reads it.

    The ``wavelength`` coordinate gets its :class:`~xarray_crism.xr.indexes.WavelengthIndex` again, as
    the backend gives it (a store holds coordinates, not indexes).
    """
    import icechunk

    access: dict[str, Any] = dict(authorizations(path))
    repo = icechunk.Repository.open(icechunk.local_filesystem_storage(path), authorize_virtual_chunk_access=access)
    ds: xr.Dataset = xr.open_zarr(repo.readonly_session("main").store, group=group or None, consolidated=False)
    return set_wavelength_index(ds)


def _write_product(store: Any, name: str, product: Product) -> None:
    from zarr.codecs import BytesCodec, TransposeCodec

    from .convert import quiet_zarr, with_masked_constants

    ds = with_masked_constants(build_dataset(product))
    refs: dict[str, tuple[str, list[tuple[str, int]], int]] = {}
    encoding: dict[str, dict[str, Any]] = {}
    for var_name, var in product.variables.items():
        disk, rename = unwrap_disk_array(var.data)
        if disk is None:
            raise CrismError(product.source.url, var_name, type(var.data).__name__, "an array read from the file",
                             "computed images (bayer='split') cannot be virtual: convert to Zarr instead")
        chunks = build_file_chunks(disk)
        storage = [rename.get(d, d) for d in chunks.dims]  # file order, under the variable's names
        logical = list(var.dims)
        order = [logical.index(d) for d in storage]
        size = dict(zip(storage, chunks.chunks, strict=True))
        ds[var_name] = ds[var_name].chunk(size)
        encoding[var_name] = {
            "chunks": tuple(size[d] for d in logical), "compressors": None, "filters": [TransposeCodec(order=order)],
            "serializer": BytesCodec(endian="big" if disk.layout.dtype.byteorder == ">" else "little"),
        }
        keys = ["/".join(str(index[storage.index(d)]) for d in logical) for index in chunks.grid.tolist()]
        refs[var_name] = (chunks.url, list(zip(keys, np.asarray(chunks.offsets).tolist(), strict=True)), chunks.length)
    with quiet_zarr():
        ds.to_zarr(store, group=name or None, compute=False, zarr_format=3, consolidated=False, encoding=encoding,
                   mode="w-" if not name else "a")
    prefix = f"{name}/" if name else ""
    for var_name, (url, keyed, length) in refs.items():
        location = _location(url)
        for key, offset in keyed:
            store.set_virtual_ref(f"{prefix}{var_name}/c/{key}", location, offset=int(offset), length=length)


def check_sources(product: Product) -> Product:
    """``product``, if Icechunk can reference its data files faithfully; else ``CrismError``."""
    for url in _urls(product):
        _prefix(url)
    return product


def _urls(product: Product) -> set[str]:
    urls = set()
    for var in product.variables.values():
        disk, _ = unwrap_disk_array(var.data)
        if disk is not None:
            urls.add(disk.source.url)
    return urls


def _location(url: str) -> str:
    return url if "://" in url else f"file://{url}"


def _prefix(url: str) -> str:
    location = _location(url)
    if location.startswith("file://"):
        return posixpath.dirname(location) + "/"
    raise CrismError(url, "source", url, "a local file (Icechunk output)",
                     "Icechunk 1.1 drops the port of HTTP locations: write JSON or parquet references for remote sources")


def _chunk_store(prefix: str) -> Any:
    import icechunk

    return icechunk.local_filesystem_store(prefix[len("file://"):])
