"""Bytes: every read of the package goes through fsspec, here.

A :class:`Source` is one file on one filesystem (local, ``https://``, ``s3://``, chained caches).
Labels are read whole (``read_text``); data are read by byte ranges (``read_ranges``), checked
for length so that a short file or a server that ignores ``Range`` never yields wrong bytes.
Companion files are looked up case-insensitively by :class:`SidecarFinder`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np
from fsspec.implementations.local import LocalFileSystem

from .errors import SidecarNotFoundError, TruncatedFileError, UnsafePathError

__all__ = ["SidecarFinder", "Source", "check_plain_name", "open_source", "read_ranges", "read_text"]

MAX_LABEL_BYTES = 10 * 1024 * 1024
_UNSAFE_NAME = re.compile(r"[/\\:\x00]|^\.\.?$|^~")


@dataclass(frozen=True)
class Source:
    """One file: the fsspec filesystem and the path that filesystem understands."""

    fs: fsspec.AbstractFileSystem
    path: str

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
        if isinstance(self.fs, LocalFileSystem):
            return self.path
        return str(self.fs.unstrip_protocol(self.path))

    def sibling(self, name: str) -> Source:
        """The file called ``name`` in the same directory (``name`` must be a plain file name)."""
        return Source(self.fs, posixpath.join(self.directory, name))


def open_source(location: str | os.PathLike[str], storage_options: dict[str, Any] | None) -> Source:
    """Resolve a local path or any fsspec URL to a :class:`Source`."""
    text = os.fspath(location)
    fs, path = fsspec.core.url_to_fs(text, **(storage_options or {}))
    if isinstance(fs, LocalFileSystem):
        path = fs._strip_protocol(os.path.abspath(path))
    return Source(fs, path)


def check_plain_name(name: str, label: str, keyword: str) -> str:
    """Refuse names that leave the product's directory (``../x``, ``/etc/x``, URLs)."""
    if not name or _UNSAFE_NAME.search(name):
        raise UnsafePathError(
            label, keyword, name, "a plain file name in the product's directory",
            "Pointers and sidecar names may not hold directories, '..' or URLs",
        )
    return name


def read_text(source: Source) -> str:
    """Read a whole label as text (Latin-1, so no byte can fail to decode)."""
    size = source.fs.size(source.path)
    if size is not None and size > MAX_LABEL_BYTES:
        raise TruncatedFileError(source.url, "label size", size, f"at most {MAX_LABEL_BYTES} bytes")
    data = source.fs.cat_file(source.path)
    return bytes(data).decode("latin-1")


def read_size(source: Source) -> int:
    """The size of a file in bytes."""
    return int(source.fs.size(source.path))


def read_ranges(source: Source, ranges: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """Read byte ranges ``[start, end)`` of one file, each as a writeable uint8 array.

    Local files are read with one open and ``readinto`` (no copy); remote ones with fsspec's
    ``cat_ranges`` (concurrent requests for async filesystems). A range that comes back with
    the wrong length raises :class:`TruncatedFileError`.
    """
    if isinstance(source.fs, LocalFileSystem):
        return _read_local(source, ranges)
    n = len(ranges)
    blobs = source.fs.cat_ranges([source.path] * n, [r[0] for r in ranges], [r[1] for r in ranges])
    out = []
    for (start, end), blob in zip(ranges, blobs, strict=True):
        if isinstance(blob, BaseException):
            raise blob
        _check_length(source, start, end, len(blob))
        out.append(np.frombuffer(blob, dtype=np.uint8).copy())
    return out


def _read_local(source: Source, ranges: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    out = []
    with open(source.path, "rb", buffering=0) as f:
        for start, end in ranges:
            buf = np.empty(end - start, dtype=np.uint8)
            f.seek(start)
            got = f.readinto(buf.data)
            _check_length(source, start, end, got or 0)
            out.append(buf)
    return out


def _check_length(source: Source, start: int, end: int, got: int) -> None:
    if got != end - start:
        raise TruncatedFileError(
            source.url, f"bytes {start}-{end}", f"{got} bytes returned", f"{end - start} bytes",
            "The file is shorter than its label says, or the server ignored the Range header",
        )


@dataclass
class SidecarFinder:
    """Finds companion files by name, case-insensitively.

    Looks next to the product first, then in each of ``extra_dirs`` (paths or URLs). Directory
    listings are cached for the life of the finder (one ``open_dataset`` call).
    """

    product: Source
    extra_dirs: Sequence[str | os.PathLike[str]] = ()
    storage_options: dict[str, Any] | None = None
    _listings: dict[tuple[int, str], dict[str, str] | None] = field(default_factory=dict)

    def directories(self) -> list[tuple[fsspec.AbstractFileSystem, str]]:
        """The places searched, in order."""
        places = [(self.product.fs, self.product.directory)]
        for extra in self.extra_dirs:
            src = open_source(extra, self.storage_options)
            places.append((src.fs, src.path.rstrip("/")))
        return places

    def find(self, name: str, label: str, keyword: str, *, local: bool = False) -> Source | None:
        """The first file called ``name`` (any case) in the searched places, or None.

        With ``local=True`` only the product's own directory is searched (data files).
        """
        check_plain_name(name, label, keyword)
        places = self.directories()
        for fs, directory in places[:1] if local else places:
            found = self._lookup(fs, directory, name)
            if found is not None:
                return Source(fs, found)
        return None

    def require(self, name: str, label: str, keyword: str, *, local: bool = False) -> Source:
        """Like :meth:`find`, but raise :class:`SidecarNotFoundError` when absent."""
        found = self.find(name, label, keyword, local=local)
        if found is None:
            raise self.not_found(name, label, keyword)
        return found

    def matching(self, pattern: re.Pattern[str]) -> list[Source]:
        """Every file whose upper-cased name fully matches ``pattern``, nearest place first."""
        found = []
        for fs, directory in self.directories():
            listing = self._listing(fs, directory) or {}
            found += [Source(fs, p) for key, p in sorted(listing.items()) if pattern.fullmatch(key)]
        return found

    def not_found(self, name: str, label: str, keyword: str) -> SidecarNotFoundError:
        """The error for a sidecar that is missing, naming where it was looked for."""
        places = ", ".join(d for _, d in self.directories())
        return SidecarNotFoundError(
            label, keyword, name, f"a file of that name (any case) in {places}",
            "Pass sidecar_dirs=[...] with the directories or URLs that hold it",
        )

    def _lookup(self, fs: fsspec.AbstractFileSystem, directory: str, name: str) -> str | None:
        listing = self._listing(fs, directory)
        if listing is not None:
            return listing.get(name.upper())
        for candidate in _case_variants(name):
            path = posixpath.join(directory, candidate)
            if fs.exists(path):
                return path
        return None

    def _listing(self, fs: fsspec.AbstractFileSystem, directory: str) -> dict[str, str] | None:
        key = (id(fs), directory)
        if key not in self._listings:
            self._listings[key] = _list_directory(fs, directory)
        return self._listings[key]


def _list_directory(fs: fsspec.AbstractFileSystem, directory: str) -> dict[str, str] | None:
    try:
        entries = fs.ls(directory, detail=False)
    except (OSError, ValueError, NotImplementedError):
        return None
    return {posixpath.basename(str(p).rstrip("/")).upper(): str(p) for p in entries}


def _case_variants(name: str) -> Iterable[str]:
    return dict.fromkeys([name, name.upper(), name.lower()])
