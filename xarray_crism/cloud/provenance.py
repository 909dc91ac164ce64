"""Provenance of a conversion: the files a product was read from, their sizes and SHA-256 sums.

The record written with every converted product (``attrs["xarray_crism"]``) is built here:
the package version, the time, the source URL and the options it was opened with, and for each
file read (the label, every data file, a joined DDR's data file) its URL, size, modification time and, unless
``checksums=False``, its SHA-256. A conversion computes the SHA-256 from the bytes it reads
(:mod:`xarray_crism.cloud.hashing`); checking a finished product for changed sources
(:func:`find_changed_files`) reads each file once more, sequentially in 8 MiB blocks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from ..io.sources import Source, open_source, read_size
from ..model.product import Product

__all__ = ["build_record", "find_changed_files", "find_source_files", "read_file_facts", "read_modified"]

_BLOCK = 8 * 2**20


def find_source_files(product: Product) -> list[Source]:
    """The label and every data file the product's variables read, in first-seen order."""
    found: dict[str, Source] = {product.source.url: product.source}
    for var in (*product.variables.values(), *product.coords.values()):
        for source in _sources_of(var.data):
            found.setdefault(source.url, source)
    return list(found.values())


def _sources_of(array: Any) -> Iterator[Source]:
    """Sources held by a lazy array's fields, following wrapped arrays (renamed, Bayer planes)."""
    if not dataclasses.is_dataclass(array):
        return
    for f in dataclasses.fields(array):
        value = getattr(array, f.name)
        if isinstance(value, Source):
            yield value
        elif hasattr(value, "read") and hasattr(value, "dims"):
            yield from _sources_of(value)


def read_file_facts(sources: list[Source], *, checksums: bool = True) -> list[dict[str, Any]]:
    """URL, size and (``checksums``) SHA-256 of each file."""
    facts = []
    for source in sources:
        fact: dict[str, Any] = {"url": source.url, "size": read_size(source), "modified": read_modified(source)}
        if checksums:
            fact["sha256"] = _sha256(source)
        facts.append(fact)
    return facts


def read_modified(source: Source) -> str | None:
    """The file's modification time as text (local: ns; object stores: ``LastModified``), or None if unknown."""
    if isinstance(source.fs, LocalFileSystem):
        return str(os.stat(source.path).st_mtime_ns)
    info = source.fs.info(source.path)
    value = info.get("LastModified", info.get("mtime", info.get("last_modified")))
    return None if value is None else str(value)


def find_changed_files(record: dict[str, Any], storage_options: dict[str, Any] | None, *, checksums: bool) -> list[str]:
    """The recorded source files that changed since the conversion: size and modification time, and
    (``checksums``) the SHA-256 when the record has one; each as ``"<url>: <what changed>"``."""
    changed = []
    for fact in record.get("files", []):
        source = open_source(str(fact.get("url")), storage_options)
        try:
            found = {"size": read_size(source), "modified": read_modified(source)}
            if checksums and "sha256" in fact:
                found["sha256"] = _sha256(source)
        except FileNotFoundError:
            changed.append(f"{fact.get('url')}: missing")
            continue
        differ = [key for key in ("size", "modified", "sha256") if key in found and key in fact and fact[key] != found[key]]
        if differ == ["modified"] and "sha256" in found:  # touched, same bytes
            continue
        changed += [f"{source.url}: {key} {fact[key]} -> {found[key]}" for key in differ]
    return changed


def _sha256(source: Source) -> str:
    digest = hashlib.sha256()
    with source.fs.open(source.path, "rb", block_size=_BLOCK) as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def build_record(source: str | None, options: dict[str, Any], files: list[dict[str, Any]], version: str) -> dict[str, Any]:
    """The conversion record: what was converted, how, from which files, by which version, when."""
    return {
        "source": source,
        "options": options,
        "files": files,
        "package": "xarray-crism",
        "version": version,
        "converted": datetime.now(UTC).isoformat(timespec="seconds"),
    }
