"""Provenance of a conversion: the files a product was read from, their sizes and SHA-256 sums.

The record written with every converted product (``attrs["xarray_crism"]``) is built here:
the package version, the time, the source URL and the options it was opened with, and for each
file read (the label, every data file, a joined DDR's data file) its URL, size and, unless
``checksums=False``, its SHA-256 (one sequential read of the file in 8 MiB blocks; a second read
of every byte, which is cheap on local disks and doubles the transfer of remote sources).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..io.sources import Source, read_size
from ..model.product import Product

__all__ = ["build_record", "find_source_files", "read_file_facts"]

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
        fact: dict[str, Any] = {"url": source.url, "size": read_size(source)}
        if checksums:
            fact["sha256"] = _sha256(source)
        facts.append(fact)
    return facts


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
