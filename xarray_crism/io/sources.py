"""Bytes: every read of the package goes through fsspec, here.

A :class:`Source` is one file on one filesystem (local, ``https://``, ``s3://``, chained caches).
Labels are read whole (``read_text``); data are read by byte ranges (``read_ranges``), checked
for length so that a short file or a server that ignores ``Range`` never yields wrong bytes; HTTP
answers are also checked against the range asked and the file's stamp (:mod:`xarray_crism.io.http`). Files opened
for their data are stamped (:mod:`xarray_crism.io.stamps`) and every later read checks they did not change.
Companion files are looked up by :class:`SidecarFinder`: the exact name first, then its case
variants (which must hold the same bytes when there are several).

Remote requests are retried as :mod:`xarray_crism.io.retries` says; local files are never retried. Names from
labels and listings are checked by :mod:`xarray_crism.io.paths`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import fsspec
import numpy as np
from fsspec.implementations.cached import CachingFileSystem
from fsspec.implementations.local import LocalFileSystem
from fsspec.utils import tokenize

from ..errors import LabelValueError, RemoteReadError, SidecarNotFoundError, TruncatedFileError
from .http import is_http, is_listing_refused, read_http_head, read_http_stamp, read_http_whole
from .local import BLOCK_BYTES, OnBlock, read_local_into, read_local_ranges
from .paths import check_confined, check_plain_name, check_relative_path, is_direct_child
from .remote import read_remote_into
from .retries import MAX_ATTEMPTS, call_retrying
from .stamps import Stamp, build_local_stamp

__all__ = [
    "BLOCK_BYTES", "MAX_ATTEMPTS", "Listings", "OnBlock", "SidecarFinder", "Source", "Stamp", "build_url", "check_confined",
    "check_plain_name", "check_relative_path", "open_source", "read_entries", "read_exists", "read_head", "read_listing",
    "read_ranges", "read_ranges_into", "read_size", "read_stamped", "read_text",
]

#: Largest file read whole as a label (10 MiB); a bigger one raises :class:`TruncatedFileError`.
MAX_LABEL_BYTES = 10 * 1024 * 1024
#: Case variants of one name that must be compared are read in blocks of this many bytes.
COMPARE_BLOCK = 8 * 1024 * 1024
_T = TypeVar("_T")
#: A :class:`SidecarFinder`'s listing cache: (filesystem key, directory) -> upper-cased name -> paths, or None.
Listings = dict[tuple[str, str], dict[str, list[str]] | None]


@dataclass(frozen=True)
class Source:
    """One file: the fsspec filesystem and the path that filesystem understands."""

    fs: fsspec.AbstractFileSystem
    path: str
    #: What the file was when the product was opened (data files; see :func:`read_stamped`).
    stamp: Stamp | None = field(default=None, compare=False)
    #: What an answer about this very object taught (``"stamp"``: an HTTP label's first GET, :func:`read_head`),
    #: so that a label that is also its own data file is not asked for its size again in the same open.
    seen: dict[str, Stamp] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The file name, without directory."""
        return posixpath.basename(self.path.rstrip("/"))

    @property
    def directory(self) -> str:
        """The directory that holds the file, as a path of the same filesystem."""
        return posixpath.dirname(self.path.rstrip("/"))

    @property
    def url(self) -> str:
        """The file as a URL that fsspec opens again (``/abs/path`` for local files)."""
        return build_url(self.fs, self.path)

    def sibling(self, name: str) -> Source:
        """The file called ``name`` in the same directory (``name`` must be a plain file name)."""
        return Source(self.fs, posixpath.join(self.directory, name))


def build_url(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """``path`` of ``fs`` as a URL that fsspec opens again: ``/abs/path`` for local files, and a chained
    cache keeps its prefix (``simplecache::https://...``), so that files found from it are cached too."""
    if isinstance(fs, LocalFileSystem):
        return path
    if isinstance(fs, CachingFileSystem):
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        return f"{protocol}::{fs.fs.unstrip_protocol(path)}"
    return str(fs.unstrip_protocol(path))


def open_source(location: str | os.PathLike[str], storage_options: dict[str, Any] | None) -> Source:
    """Resolve a local path or any fsspec URL to a :class:`Source`."""
    text = os.fspath(location)
    fs, path = fsspec.core.url_to_fs(text, **(storage_options or {}))
    if isinstance(fs, LocalFileSystem):
        path = fs._strip_protocol(os.path.abspath(path))
    return Source(fs, path)


def read_text(source: Source) -> str:
    """Read a whole label as text (Latin-1, so no byte can fail to decode); at most ``MAX_LABEL_BYTES``.

    Over HTTP this is one GET, of which at most ``MAX_LABEL_BYTES + 1`` bytes are read (no size request first).
    """
    if is_http(source.fs):
        data = _retrying(source, "whole file", lambda: read_http_whole(source.fs, source.path, MAX_LABEL_BYTES))
        return data.decode("latin-1")
    size = _retrying(source, "size", lambda: source.fs.size(source.path))
    if size is not None and size > MAX_LABEL_BYTES:
        raise TruncatedFileError(source.url, "label size", size, f"at most {MAX_LABEL_BYTES} bytes")
    data = _retrying(source, "whole file", lambda: source.fs.cat_file(source.path))
    return bytes(data).decode("latin-1")


def read_head(source: Source, whole: int, sniff: int) -> tuple[bytes, int]:
    """The first bytes of a file and its size: all of it when it has at most ``whole`` bytes, else its first
    ``sniff`` bytes (local and other filesystems: a size request, then a read) or its first ``whole`` bytes
    (HTTP: one GET, whose ``Content-Range`` gives the size; its ``ETag`` and ``Last-Modified`` stamp the
    file in ``source.seen``, so that a label that is its own data file is not asked again)."""
    if is_http(source.fs):
        data, stamp = _retrying(source, "first bytes", lambda: read_http_head(source.fs, source.path, whole))
        source.seen["stamp"] = stamp
        return data, stamp.size
    size = read_size(source)
    (head,) = read_ranges(source, [(0, min(size, whole if size <= whole else sniff))])
    return head.tobytes(), size


def read_size(source: Source) -> int:
    """The size of a file in bytes (a server that does not tell it raises :class:`RemoteReadError`)."""
    size = _retrying(source, "size", lambda: source.fs.size(source.path))
    if size is None:
        raise RemoteReadError(
            source.url, "size", None, "a Content-Length (or Content-Range) header giving the file's size",
            "The server sends this file without a size (chunked or compressed); "
            "open 'simplecache::URL' to download it whole first",
        )
    return int(size)


def read_stamped(source: Source) -> tuple[Source, int]:
    """The file's size, and the source stamped with what the file is now (local: size, modification
    time, inode, status-change time; HTTP: size, ETag, Last-Modified): every later read of a stamped
    file checks that it has not changed (:class:`~xarray_crism.errors.FileChangedError`)."""
    if isinstance(source.fs, LocalFileSystem):
        stamp = build_local_stamp(os.stat(source.path))
    elif is_http(source.fs) and "stamp" in source.seen:
        stamp = source.seen["stamp"]  # this open already asked: the label's own GET (the label is the data file)
    elif is_http(source.fs):
        stamp = _retrying(source, "size", lambda: read_http_stamp(source.fs, source.path))
    else:
        return source, read_size(source)
    return Source(source.fs, source.path, stamp), stamp.size


def read_exists(source: Source) -> bool:
    """Whether the file exists; a server error is retried, then raised, never taken for "absent"."""
    try:
        _retrying(source, "existence", lambda: source.fs.info(source.path))
    except FileNotFoundError:
        return False
    return True


def read_entries(directory: Source) -> list[str]:
    """The paths of a directory's direct children, sorted (retried like reads); a listing page's links
    that lead elsewhere (``../x``, other servers) are dropped. A server that refuses listings (HTTP 401,
    403, 405) raises :class:`RemoteReadError`."""
    path = directory.path.rstrip("/") + "/" if is_http(directory.fs) else directory.path  # no redirect to "dir/"
    try:
        entries = _retrying(directory, "directory listing", lambda: directory.fs.ls(path, detail=False))
    except Exception as err:
        if not is_listing_refused(err):
            raise
        raise RemoteReadError(
            directory.url, "directory listing", f"HTTP {getattr(err, 'status', '?')}", "a listing of the directory",
            "The server does not list directories: open a label or an index label by its URL",
        ) from err
    return sorted(p for p in (str(e).rstrip("/") for e in entries) if is_direct_child(directory.path, p))


def read_listing(directory: Source) -> dict[str, str]:
    """A directory's entries, upper-cased base name -> path (see :func:`read_entries`)."""
    return {posixpath.basename(p).upper(): p for p in read_entries(directory)}


def read_ranges(source: Source, ranges: Sequence[tuple[int, int]], on_block: OnBlock | None = None) -> list[np.ndarray]:
    """Read byte ranges ``[start, end)`` of one file, each as a writeable uint8 array.

    Local files are read with one open and ``readinto`` (no copy, :mod:`xarray_crism.io.local`); remote
    ones straight into the arrays (:mod:`xarray_crism.io.remote`: concurrent HTTP requests, every answer
    checked against the range and the stamp). A range that comes back with the wrong length raises
    :class:`TruncatedFileError`. ``on_block(i, offset, block)`` is called on consecutive pieces of range
    ``i`` (:data:`~xarray_crism.io.local.BLOCK_BYTES` at most; a local piece as soon as it is read, while
    it is in the CPU cache; a remote range once it is whole): a reader decodes there.
    """
    if isinstance(source.fs, LocalFileSystem):
        return read_local_ranges(source.url, source.path, source.stamp, ranges, on_block)
    out = [np.empty(end - start, dtype=np.uint8) for start, end in ranges]
    read_remote_into(source.fs, source.path, source.url, source.stamp, ranges, [memoryview(a.data) for a in out])
    for i, buf in enumerate(out if on_block is not None else ()):
        for lo in range(0, buf.size, BLOCK_BYTES):
            on_block(i, lo, buf[lo : lo + BLOCK_BYTES])  # type: ignore[misc]
    return out


def read_ranges_into(source: Source, ranges: Sequence[tuple[int, int]], out: np.ndarray) -> None:
    """Read byte ranges ``[start, end)`` of one file one after the other into ``out`` (contiguous uint8,
    their total length): no array per range, one system call per local range (many small ranges)."""
    if isinstance(source.fs, LocalFileSystem):
        read_local_into(source.url, source.path, source.stamp, ranges, out)
        return
    view, views, pos = memoryview(out.data).cast("B"), [], 0
    for start, end in ranges:
        views.append(view[pos : pos + end - start])
        pos += end - start
    read_remote_into(source.fs, source.path, source.url, source.stamp, ranges, views)


def _retrying(source: Source, what: str, call: Callable[[], _T]) -> _T:
    """``call()``, retried on transient errors when the file is remote."""
    if isinstance(source.fs, LocalFileSystem):
        return call()
    return call_retrying(source.url, what, call)


@dataclass
class SidecarFinder:
    """Finds companion files by name: the exact name first, then any case variant.

    Looks next to the product first, then in each of ``extra_dirs`` (paths or URLs). Directory
    listings are cached in ``listings`` for the life of the finder (one ``open_dataset`` call); the finders
    of a product's companions (its WA CDR, SW table, DDR) are given the same ``listings``, so that each
    directory is listed once per call. Of several case
    variants of a name (``x.img`` and ``X.IMG``) and none spelt exactly as asked, all must hold the
    same bytes, else :class:`~xarray_crism.errors.LabelValueError` says which to keep.
    """

    product: Source
    extra_dirs: Sequence[str | os.PathLike[str]] = ()
    storage_options: dict[str, Any] | None = None
    #: (filesystem, directory) -> upper-cased name -> paths (None: the directory cannot be listed).
    listings: Listings = field(default_factory=dict)

    def directories(self) -> list[tuple[fsspec.AbstractFileSystem, str]]:
        """The places searched, in order."""
        places = [(self.product.fs, self.product.directory)]
        for extra in self.extra_dirs:
            src = open_source(extra, self.storage_options)
            places.append((src.fs, src.path.rstrip("/")))
        return places

    def find(self, name: str, label: str, keyword: str, *, local: bool = False) -> Source | None:
        """The file called ``name`` (exactly, else in any case) in the first searched place that has one, or None.

        With ``local=True`` only the product's own directory is searched (data files).
        """
        check_plain_name(name, label, keyword)
        places = self.directories()
        for i, (fs, directory) in enumerate(places[:1] if local else places):
            found = self._lookup(fs, directory, name, label, keyword)
            if found is not None:
                return self._confined(Source(fs, found), i, label, keyword)
        return None

    def _confined(self, source: Source, place: int, label: str, keyword: str) -> Source:
        """Files of the product's own directory (place 0) must resolve into it or into the label's real
        directory; directories named by the caller (``sidecar_dirs``, a catalog's volumes) are trusted."""
        if place != 0:
            return source
        roots = [self.product.directory, os.path.dirname(os.path.realpath(self.product.path))]
        return check_confined(source, roots, label, keyword)

    def require(self, name: str, label: str, keyword: str, *, local: bool = False) -> Source:
        """Like :meth:`find`, but raise :class:`SidecarNotFoundError` when absent."""
        found = self.find(name, label, keyword, local=local)
        if found is None:
            raise self.not_found(name, label, keyword)
        return found

    def matching(self, pattern: re.Pattern[str]) -> list[Source]:
        """Every file whose upper-cased name fully matches ``pattern``, nearest place first."""
        found = []
        for i, (fs, directory) in enumerate(self.directories()):
            listing = self._listing(fs, directory) or {}
            for key, paths in sorted(listing.items()):
                if pattern.fullmatch(key):
                    path = _pick_variant(fs, key, paths, self.product.url, "sidecar")
                    found.append(self._confined(Source(fs, path), i, self.product.url, "sidecar"))
        return found

    def not_found(self, name: str, label: str, keyword: str) -> SidecarNotFoundError:
        """The error for a sidecar that is missing, naming where it was looked for."""
        places = ", ".join(d for _, d in self.directories())
        return SidecarNotFoundError(
            label, keyword, name, f"a file of that name (any case) in {places}",
            "Pass sidecar_dirs=[...] with the directories or URLs that hold it",
        )

    def _lookup(self, fs: fsspec.AbstractFileSystem, directory: str, name: str, label: str, keyword: str) -> str | None:
        listing = self._listing(fs, directory)
        if listing is not None:
            paths = listing.get(name.upper(), [])
        else:
            paths = _probe_variants(fs, directory, name)
        return _pick_variant(fs, name, paths, label, keyword) if paths else None

    def _listing(self, fs: fsspec.AbstractFileSystem, directory: str) -> dict[str, list[str]] | None:
        key = (_fs_key(fs), directory.rstrip("/"))
        if key not in self.listings:
            self.listings[key] = _list_directory(fs, directory)
        return self.listings[key]


def _fs_key(fs: fsspec.AbstractFileSystem) -> str:
    """Filesystems of the same kind and options list alike (a companion opened by URL gets its own instance)."""
    return str(tokenize(type(fs).__qualname__, fs.storage_options))


def _list_directory(fs: fsspec.AbstractFileSystem, directory: str) -> dict[str, list[str]] | None:
    """Upper-cased name -> the paths of that name in any case, or None when the directory cannot be
    listed (then names are tried one by one)."""
    try:
        entries = read_entries(Source(fs, directory))
    except (OSError, ValueError, NotImplementedError, RemoteReadError):
        return None
    listing: dict[str, list[str]] = {}
    for path in entries:
        listing.setdefault(posixpath.basename(path).upper(), []).append(path)
    return listing


def _probe_variants(fs: fsspec.AbstractFileSystem, directory: str, name: str) -> list[str]:
    """The exact name if it exists, else those of its upper- and lower-case variants that do."""
    paths = [posixpath.join(directory, candidate) for candidate in _case_variants(name)]
    if read_exists(Source(fs, paths[0])):
        return paths[:1]
    return [p for p in paths[1:] if read_exists(Source(fs, p))]


def _pick_variant(fs: fsspec.AbstractFileSystem, name: str, paths: list[str], label: str, keyword: str) -> str:
    """The path spelt exactly ``name``, else the only variant, else the first of variants that hold the same bytes."""
    exact = [p for p in paths if posixpath.basename(p) == name]
    if exact or len(paths) == 1:
        return (exact or paths)[0]
    first, *others = sorted(paths)
    different = [p for p in others if not _same_bytes(Source(fs, first), Source(fs, p))]
    if different:
        names = [posixpath.basename(p) for p in (first, *different)]
        raise LabelValueError(
            label, keyword, name, f"one file of that name; its case variants {names} hold different bytes",
            "Rename the product's file to the name its label gives, or remove the variant that is not it",
        )
    return first


def _same_bytes(a: Source, b: Source) -> bool:
    """Whether two files hold the same bytes (sizes first, then block by block)."""
    size = read_size(a)
    if size != read_size(b):
        return False
    for start in range(0, size, COMPARE_BLOCK):
        block = [(start, min(size, start + COMPARE_BLOCK))]
        if not np.array_equal(read_ranges(a, block)[0], read_ranges(b, block)[0]):
            return False
    return True


def _case_variants(name: str) -> Iterable[str]:
    return dict.fromkeys([name, name.upper(), name.lower()])
