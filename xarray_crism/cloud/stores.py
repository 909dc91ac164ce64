"""Output stores of the converter: where a product goes, whether it is finished, and publishing it.

A product is written under a temporary prefix beside the store, ``<store>.partial/<name>``, and
published to ``<store>/<name>`` only once every chunk is written:

- on a local disk by renaming the directory (atomic);
- on object stores (S3, GCS, ...) by copying every object server-side, chunks first, then the
  arrays' ``zarr.json`` documents, then the groups' from the deepest up, the product's root
  ``zarr.json`` last; the temporary prefix is removed after.

The root ``zarr.json`` of a product holds its conversion record (``attributes["xarray_crism"]``,
:data:`RECORD_KEY`). So a product whose root ``zarr.json`` carries the record is complete, and a
conversion killed at any point leaves either nothing at ``<store>/<name>``, or (object stores, killed
while publishing) objects without that record, which the next run removes and converts again.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
from dataclasses import dataclass, field
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ..errors import CrismError

__all__ = ["RECORD_KEY", "Store", "build_zarr_store", "find_foreign_files", "open_store", "publish", "read_record", "remove"]

#: The group attribute holding a product's conversion record (provenance); written last.
RECORD_KEY = "xarray_crism"
_PARTIAL = ".partial"


@dataclass(frozen=True)
class Store:
    """A conversion target: a filesystem, the store's root path in it and the options to reopen it."""

    fs: fsspec.AbstractFileSystem
    root: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        """True for a directory on a local disk (publishing is a rename)."""
        return isinstance(self.fs, LocalFileSystem)

    def final(self, name: str) -> str:
        """Path of product ``name`` (``""``: the store root itself)."""
        return posixpath.join(self.root, name) if name else self.root

    def partial(self, name: str) -> str:
        """Path product ``name`` is written to before it is published."""
        return posixpath.join(self.root + _PARTIAL, name or "_root")

    def url(self, path: str) -> str:
        """``path`` as a URL that xarray/zarr open with ``storage_options``."""
        return path if self.is_local else str(self.fs.unstrip_protocol(path))


def open_store(url: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> Store:
    """The store at a local path or fsspec URL (``s3://bucket/crism.zarr``)."""
    options = dict(storage_options or {})
    fs, root = fsspec.core.url_to_fs(os.fspath(url), **options)
    store = Store(fs, root.rstrip("/"), options)
    if not store.is_local and "/" not in store.root:
        raise CrismError(
            os.fspath(url), "store", os.fspath(url), "a prefix inside a bucket (s3://bucket/crism.zarr)",
            "products are written beside the store first (<store>.partial), which a bucket root does not have",
        )
    return store


def build_zarr_store(store: Store, path: str) -> Any:
    """A zarr store object for ``path`` (a path of this store's filesystem)."""
    import zarr

    if store.is_local:
        return zarr.storage.LocalStore(path)
    return zarr.storage.FsspecStore.from_url(store.url(path), storage_options=store.storage_options)


def read_record(store: Store, name: str) -> dict[str, Any] | None:
    """The conversion record of product ``name``, or ``None`` if it is absent or not finished."""
    try:
        with store.fs.open(posixpath.join(store.final(name), "zarr.json"), "rb") as f:
            document = json.load(f)
    except (OSError, json.JSONDecodeError):  # missing, or a file where a product would be
        return None
    record = document.get("attributes", {}).get(RECORD_KEY) if isinstance(document, dict) else None
    return record if isinstance(record, dict) else None


def find_foreign_files(store: Store, path: str, reference: str | None = None) -> list[str]:
    """Files under ``path`` (relative paths) that this converter did not write there.

    Without ``reference``, the converter's files are those of Zarr's layout: ``zarr.json``
    documents and chunks under an array's ``c/``. With ``reference`` (the partial product a killed
    publish was copying), they are the files that ``reference`` also holds.
    """
    files = [f.rstrip("/")[len(path.rstrip("/")) + 1:] for f in store.fs.find(path)] if store.fs.isdir(path) else [""]
    if reference is None:
        return sorted(f for f in files if not _is_zarr_file(f))
    copied = {f.rstrip("/")[len(reference.rstrip("/")) + 1:] for f in store.fs.find(reference)}
    return sorted(f for f in files if f not in copied)


def _is_zarr_file(relative: str) -> bool:
    parts = relative.split("/")
    return parts[-1] == "zarr.json" or "c" in parts[:-1]


def remove(store: Store, path: str) -> None:
    """Delete ``path`` and everything under it, if it exists."""
    if store.fs.exists(path):
        store.fs.rm(path, recursive=True)


def publish(store: Store, name: str) -> None:
    """Move product ``name`` from its partial path to its final path, root ``zarr.json`` last."""
    source, target = store.partial(name), store.final(name)
    if store.is_local:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        os.rename(source, target)
        _remove_if_empty(os.path.dirname(source))
        return
    files = [f.rstrip("/") for f in store.fs.find(source)]
    for path in sorted(files, key=lambda p: _publish_order(p, source)):
        store.fs.copy(path, target + path[len(source):])
    store.fs.rm(source, recursive=True)


def _remove_if_empty(directory: str) -> None:
    with contextlib.suppress(OSError):  # not empty: other products are being written
        os.rmdir(directory)


def _publish_order(path: str, root: str) -> tuple[int, int, str]:
    """Chunks first, then metadata documents from the deepest to the root's."""
    if posixpath.basename(path) != "zarr.json":
        return (0, 0, path)
    depth = path[len(root):].count("/")
    return (1, -depth, path)
