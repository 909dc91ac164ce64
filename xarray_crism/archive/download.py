"""Copy the files of an observation from an archive volume (or a mirror) into a local directory.

The products are found through the volume's index with the filters of ``open_catalog``
(:mod:`xarray_crism.archive.catalog`); each product's files are its label and the data files its
pointers name (the label's own directory, any case), plus its companions: the WA CDR4 its
``MRO:WAVELENGTH_FILE_NAME`` names (found through the CDR volume's index) and, optionally, its DDR
(through the DDR volume's index). A Mastcam-Z product (attached label) is its ``.IMG`` and the PDS4
``.xml`` beside it when there is one. Everything lands in one flat directory, so
``xr.open_dataset(dest / label, engine="crism", ddr="auto")`` finds the companions beside the product.

Each file is copied with fsspec to a hidden temporary name in the target directory, its size checked
against the source's, then renamed into place: an interrupted download leaves no partial file under a
real name, and a file already present with the source's size is not fetched again.
"""

from __future__ import annotations

import os
import posixpath
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import QueryError, RemoteReadError, TruncatedFileError
from ..io.sources import SidecarFinder, Source, open_source, read_exists, read_size, read_text
from ..labels.pds3 import Block, parse_label, parse_pointer
from .catalog import CatalogEntry, build_entries, build_query, select_rows
from .volumes import read_volume

__all__ = ["DownloadReport", "DownloadedFile", "download_products", "find_product_files"]

#: Filters that pick an observation or a few products; at least one is required.
_NARROWING = ("observation_id", "product_id", "sol")
#: Pointers that do not name a file of the product (descriptions and formats live elsewhere in a volume).
_NOT_DATA = ("^STRUCTURE", "^DESCRIPTION", "^CATALOG", "^DATA_SET_MAP_PROJECTION")


@dataclass(frozen=True)
class DownloadedFile:
    """One file: where it came from, where it is, its size and whether it was ``copied`` or already ``present``."""

    url: str
    path: Path
    size: int
    status: str


@dataclass
class DownloadReport:
    """The products found, their local labels (what ``xr.open_dataset`` opens), the files, companions not found."""

    products: list[str] = field(default_factory=list)
    labels: list[Path] = field(default_factory=list)
    files: list[DownloadedFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many files have ``status`` (``copied`` or ``present``)."""
        return sum(f.status == status for f in self.files)


def download_products(
    volume: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    ddr_volume: str | os.PathLike[str] | None = None,
    cdr_volume: str | os.PathLike[str] | None = None,
    ddr: bool = True,
    storage_options: dict[str, Any] | None = None,
    path_case: str = "auto",
    max_products: int = 20,
    **filters: Any,
) -> DownloadReport:
    """Copy the products of ``volume`` that match ``filters`` (keywords of ``open_catalog``) into ``dest``.

    One of ``observation_id``, ``product_id`` or ``sol`` is required, and at most ``max_products``
    products are copied (a larger match is an error naming the count), so a typo cannot start copying
    a whole volume. ``ddr=False`` leaves the DDRs out. Returns a :class:`DownloadReport`.
    """
    url = os.fspath(volume)
    if not any(filters.get(key) is not None for key in _NARROWING):
        raise QueryError(url, "observation_id", None, "a filter that picks a few products: observation_id, product_id or sol")
    entries = find_entries(url, ddr_volume, cdr_volume, storage_options, path_case, filters)
    if len(entries) > max_products:
        raise QueryError(url, "products matched", len(entries), f"at most max_products={max_products}",
                         "Narrow the filters (sensor, product_type) or raise max_products (--max-products)")
    target = Path(dest)
    target.mkdir(parents=True, exist_ok=True)
    report = DownloadReport(products=[e.name for e in entries])
    for entry in entries:
        copied = [copy_file(s, target) for s in find_product_files(entry, storage_options, ddr=ddr, missing=report.missing)]
        report.labels.append(copied[0].path)  # the label (or attached-label IMG) comes first
        report.files += copied
    return report


def find_entries(
    url: str, ddr_volume: str | os.PathLike[str] | None, cdr_volume: str | os.PathLike[str] | None,
    storage_options: dict[str, Any] | None, path_case: str, filters: dict[str, Any],
) -> list[CatalogEntry]:
    """The catalog entries of the products that match, with their DDR and wavelength directories."""
    query = build_query(url, **filters)
    main = read_volume(url, storage_options=storage_options, path_case=path_case)
    others = [None if v is None else read_volume(v, storage_options=storage_options) for v in (ddr_volume, cdr_volume)]
    rows = select_rows(main.index, query, main.root.url)
    if rows.empty:
        raise QueryError(url, "filters", query.as_metadata(), "filters that match at least one product of the volume's index")
    return build_entries(main, rows, ddr=others[0], cdr=others[1])


def find_product_files(
    entry: CatalogEntry, storage_options: dict[str, Any] | None = None, *, ddr: bool = True, missing: list[str] | None = None,
) -> list[Source]:
    """The files of one catalog entry: label, data files, WA CDR (label and data) and, with ``ddr``, the DDR's."""
    label = open_source(entry.url, storage_options)
    if not label.name.upper().endswith(".LBL"):
        return _attached_product_files(label)
    block = parse_label(read_text(label), label.url)
    finder = SidecarFinder(label, entry.sidecar_dirs, storage_options)
    files = [label, *_pointed_files(block, finder, label.url, missing)]
    wa = _text(block.get("MRO:WAVELENGTH_FILE_NAME"))
    wa_label = None if not wa else finder.find(posixpath.splitext(wa)[0] + ".LBL", label.url, "MRO:WAVELENGTH_FILE_NAME")
    if wa and wa_label is None and missing is not None:
        missing.append(f"{entry.name}: WA CDR {wa}")
    companions = [wa_label] + ([open_source(entry.ddr, storage_options)] if ddr and entry.ddr else [])
    for other in (c for c in companions if c is not None):
        files += [other, *_pointed_files(parse_label(read_text(other), other.url), SidecarFinder(other), other.url, missing)]
    return list({f.url: f for f in files}.values())


def _attached_product_files(image: Source) -> list[Source]:
    """A product whose label is attached (Mastcam-Z IMG): the file, and its PDS4 label when beside it."""
    xml = Source(image.fs, posixpath.splitext(image.path)[0] + ".xml")
    return [image, xml] if read_exists(xml) else [image]


def _pointed_files(block: Block, finder: SidecarFinder, label: str, missing: list[str] | None) -> Iterator[Source]:
    """The files the label's data pointers name, found in its own directory (any case)."""
    for name in dict.fromkeys(_pointer_names(block, label)):
        found = finder.find(name, label, "^POINTER", local=True)
        if found is not None:
            yield found
        elif missing is not None:
            missing.append(f"{posixpath.basename(label)}: {name}")


def _pointer_names(block: Block, label: str) -> Iterator[str]:
    for part in block.walk():
        for key, value in part.keywords():
            if key.startswith("^") and key not in _NOT_DATA:
                filename = parse_pointer(value, label, key).filename
                if filename:
                    yield filename


def copy_file(source: Source, target: Path) -> DownloadedFile:
    """Copy ``source`` into the directory ``target`` under its own name, atomically, checking its size."""
    size = read_size(source)
    path = target / source.name
    if path.is_file() and path.stat().st_size == size:
        return DownloadedFile(source.url, path, size, "present")
    partial = target / f".{source.name}.{uuid.uuid4().hex[:8]}.part"
    try:
        _fetch(source, partial, size)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return DownloadedFile(source.url, path, size, "copied")


def _fetch(source: Source, partial: Path, size: int) -> None:
    """Copy ``source`` to ``partial``; a failed or short transfer is a package error naming the file."""
    try:
        source.fs.get_file(source.path, str(partial))
    except Exception as err:  # aiohttp, botocore and OS errors alike: the transfer failed
        raise RemoteReadError(source.url, "transfer", f"{type(err).__name__}: {err}", "a complete copy of the file",
                              "Run the download again: files already copied are kept") from err
    got = partial.stat().st_size
    if got != size:
        raise TruncatedFileError(source.url, "size", got, f"{size} bytes (the size the server reports)",
                                 "The transfer was cut short: run the download again")


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None
