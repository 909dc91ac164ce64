"""Bytes: every read of the package goes through fsspec, here.

A :class:`Source` is one file on one filesystem (local, ``https://``, ``s3://``, chained caches).
Labels are read whole (``read_text``); data are read by byte ranges (``read_ranges``), checked
for length so that a short file or a server that ignores ``Range`` never yields wrong bytes.
Companion files are looked up case-insensitively by :class:`SidecarFinder`.

Remote requests (reads, sizes, existence checks, directory listings) that fail in a way that may
pass (HTTP 5xx, 408, 429, S3 throttling, a dropped or refused connection, a timeout, an answer
shorter than asked) are retried:
:data:`MAX_ATTEMPTS` attempts in all, waiting :data:`BACKOFF_SECONDS` doubled after each (with up to
25% jitter), each retry logged as a warning on the ``xarray_crism`` logger; then
:class:`RemoteReadError` names the file, what was read and the last error. Anything else (missing
files, refused permissions, bad URLs, certificate errors) fails at once. Local files are never retried.
"""

from __future__ import annotations

import errno
import logging
import os
import posixpath
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import fsspec
import numpy as np
from fsspec.implementations.local import LocalFileSystem

from ..errors import CrismError, FileChangedError, RemoteReadError, SidecarNotFoundError, TruncatedFileError, UnsafePathError

__all__ = [
    "SidecarFinder", "Source", "check_confined", "check_plain_name", "check_relative_path", "open_source", "read_exists",
    "read_listing", "read_ranges", "read_ranges_into", "read_size", "read_stamped", "read_text",
]

#: Largest file read whole as a label (10 MiB); a bigger one raises :class:`TruncatedFileError`.
MAX_LABEL_BYTES = 10 * 1024 * 1024
#: Attempts per remote request (the first one and its retries), and the first wait between them.
MAX_ATTEMPTS = 4
#: The first wait between attempts, in seconds (doubled after each, with up to 25% jitter).
BACKOFF_SECONDS = 0.2
logger = logging.getLogger("xarray_crism")
_T = TypeVar("_T")
#: Bytes per piece handed to a reader's ``on_block`` (a few hundred KiB: about an L2 cache).
BLOCK_BYTES = 1 << 18
#: ``on_block(range index, byte offset in the range, the piece as a uint8 array)``.
OnBlock = Callable[[int, int, np.ndarray], None]
_UNSAFE_NAME = re.compile(r"[/\\:\x00]|^\.\.?$|^~")


@dataclass(frozen=True)
class Source:
    """One file: the fsspec filesystem and the path that filesystem understands."""

    fs: fsspec.AbstractFileSystem
    path: str
    #: (size, modification time in ns) when the product was opened (local data files; see :func:`read_stamped`).
    stamp: tuple[int, int] | None = field(default=None, compare=False)

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


def check_relative_path(path: str, label: str, keyword: str) -> str:
    """Refuse a relative path (``a/b/c.lbl``) that could leave its root: ``..``, ``~``, URLs, backslashes."""
    parts = path.split("/")
    if not path or any(not part or _UNSAFE_NAME.search(part) for part in parts):
        raise UnsafePathError(
            label, keyword, path, "a relative path inside the volume (no '..', '~', URLs or backslashes)",
            "Index rows may only name files inside their volume",
        )
    return path


def check_confined(source: Source, roots: Sequence[str], label: str, keyword: str) -> Source:
    """Refuse a local file whose real path (symbolic links resolved) is outside every one of ``roots``."""
    if not isinstance(source.fs, LocalFileSystem):
        return source
    real = os.path.realpath(source.path)
    if not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in map(os.path.realpath, roots)):
        raise UnsafePathError(
            label, keyword, source.path, f"a file inside {' or '.join(roots)} (it resolves to {real})",
            "Symbolic links may not lead out of the product's directory or volume",
        )
    return source


def read_text(source: Source) -> str:
    """Read a whole label as text (Latin-1, so no byte can fail to decode)."""
    size = _retrying(source, "size", lambda: source.fs.size(source.path))
    if size is not None and size > MAX_LABEL_BYTES:
        raise TruncatedFileError(source.url, "label size", size, f"at most {MAX_LABEL_BYTES} bytes")
    data = _retrying(source, "whole file", lambda: source.fs.cat_file(source.path))
    return bytes(data).decode("latin-1")


def read_size(source: Source) -> int:
    """The size of a file in bytes."""
    return int(_retrying(source, "size", lambda: source.fs.size(source.path)))


def read_stamped(source: Source) -> tuple[Source, int]:
    """The file's size, and the source stamped with its size and modification time when it is local:
    every later read of a stamped file checks that it has not changed (:class:`FileChangedError`)."""
    if not isinstance(source.fs, LocalFileSystem):
        return source, read_size(source)
    st = os.stat(source.path)
    return Source(source.fs, source.path, (st.st_size, st.st_mtime_ns)), st.st_size


def read_exists(source: Source) -> bool:
    """Whether the file exists; a server error is retried, then raised, never taken for "absent"."""
    try:
        _retrying(source, "existence", lambda: source.fs.info(source.path))
    except FileNotFoundError:
        return False
    return True


def read_listing(directory: Source) -> dict[str, str]:
    """A directory's entries, upper-cased base name -> path (retried like reads)."""
    entries = _retrying(directory, "directory listing", lambda: directory.fs.ls(directory.path, detail=False))
    return {posixpath.basename(str(p).rstrip("/")).upper(): str(p).rstrip("/") for p in entries}


def read_ranges(source: Source, ranges: Sequence[tuple[int, int]], on_block: OnBlock | None = None) -> list[np.ndarray]:
    """Read byte ranges ``[start, end)`` of one file, each as a writeable uint8 array.

    Local files are read with one open and ``readinto`` (no copy); remote ones with fsspec's
    ``cat_ranges`` (concurrent requests for async filesystems). A range that comes back with
    the wrong length raises :class:`TruncatedFileError`. ``on_block(i, offset, block)`` is then
    called on consecutive pieces of range ``i`` (:data:`BLOCK_BYTES` at most, ``offset`` bytes into
    the range; a local piece as soon as it is read, while it is in the CPU cache): a reader decodes there.
    """
    if isinstance(source.fs, LocalFileSystem):
        return _read_local(source, ranges, on_block)
    done = _read_remote(source, ranges)
    out = []
    for i, (start, end) in enumerate(ranges):
        _check_length(source, start, end, len(done[i]))
        out.append(np.frombuffer(done[i], dtype=np.uint8).copy())
        if on_block is not None:
            for lo in range(0, end - start, BLOCK_BYTES):
                on_block(i, lo, out[i][lo : lo + BLOCK_BYTES])
    return out


def read_ranges_into(source: Source, ranges: Sequence[tuple[int, int]], out: np.ndarray) -> None:
    """Read byte ranges ``[start, end)`` of one file one after the other into ``out`` (contiguous uint8,
    their total length): no array per range, one system call per local range (many small ranges)."""
    if not isinstance(source.fs, LocalFileSystem):
        done, pos = _read_remote(source, ranges), 0
        for i, (start, end) in enumerate(ranges):
            _check_length(source, start, end, len(done[i]))
            out[pos : pos + end - start] = np.frombuffer(done[i], dtype=np.uint8)
            pos += end - start
        return
    view = memoryview(out.data).cast("B")
    with open(source.path, "rb", buffering=0) as f:
        fd, pos = f.fileno(), 0
        size = _check_unchanged(source, fd)
        last = max(ranges, key=lambda r: r[1], default=(0, 0))
        _check_length(source, last[0], last[1], max(0, min(last[1], size) - last[0]))
        for start, end in ranges:
            got = os.preadv(fd, [view[pos : pos + end - start]], start)
            if got != end - start:
                _check_length(source, start, end, got)
            pos += end - start
        _check_unchanged(source, fd)


def _read_remote(source: Source, ranges: Sequence[tuple[int, int]]) -> dict[int, bytes]:
    """Every range's bytes (by index), with retries of the ranges that failed."""
    done: dict[int, bytes] = {}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        pending = [i for i in range(len(ranges)) if i not in done]
        if not pending:
            break
        blobs = source.fs.cat_ranges(
            [source.path] * len(pending), [ranges[i][0] for i in pending], [ranges[i][1] for i in pending],
        )
        expected = [ranges[i][1] - ranges[i][0] for i in pending]
        failed = _keep_successes(pending, blobs, expected if attempt < MAX_ATTEMPTS else None, done)
        if failed is not None:
            _retry_or_raise(source, f"bytes {ranges[failed[0]][0]}-{ranges[failed[0]][1]}", failed[1], attempt)
    return done


def _keep_successes(
    pending: list[int], blobs: list[Any], expected: list[int] | None, done: dict[int, bytes],
) -> tuple[int, BaseException] | None:
    """Store the ranges that came back; the first failure (index, error), or None.

    A short answer counts as a (transient) failure while ``expected`` lengths are given; on the last
    attempt it is kept, and :func:`_check_length` then calls the file truncated.
    """
    failed = None
    for n, (i, blob) in enumerate(zip(pending, blobs, strict=True)):
        if isinstance(blob, BaseException):
            failed = failed or (i, blob)
        elif expected is not None and len(blob) < expected[n]:
            failed = failed or (i, ConnectionError(f"short answer: {len(blob)} of {expected[n]} bytes"))
        else:
            done[i] = bytes(blob)
    return failed


def _retrying(source: Source, what: str, call: Callable[[], _T]) -> _T:
    """``call()``, retried on transient errors when the file is remote."""
    if isinstance(source.fs, LocalFileSystem):
        return call()
    attempt = 1
    while True:
        try:
            return call()
        except Exception as err:
            _retry_or_raise(source, what, err, attempt)
            attempt += 1


def _retry_or_raise(source: Source, what: str, err: BaseException, attempt: int) -> None:
    """Wait before the next attempt, or raise: ``err`` itself when it is not transient."""
    if not _is_transient(err):
        raise err
    if attempt >= MAX_ATTEMPTS:
        raise RemoteReadError(
            source.url, what, f"{type(err).__name__}: {err}", f"an answer within {MAX_ATTEMPTS} attempts",
            "The server kept failing; try again later, or copy the file locally",
        ) from err
    wait = BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(1.0, 1.25)
    logger.warning("%s: reading %s failed (%s: %s); attempt %d of %d in %.2f s",
                   source.url, what, type(err).__name__, err, attempt + 1, MAX_ATTEMPTS, wait)
    time.sleep(wait)


def _is_transient(err: BaseException) -> bool:
    """HTTP 5xx/408/429, dropped or refused connections and timeouts (an allowlist); fsspec's HTTP
    ``size``/``info`` wrap such an error in ``FileNotFoundError``, so its cause is looked at too."""
    if isinstance(err, CrismError):
        return False
    if isinstance(err, FileNotFoundError):
        return err.__cause__ is not None and _is_transient(err.__cause__)
    status = getattr(err, "status", None)
    if isinstance(status, int):
        return status >= 500 or status in (408, 429)
    if isinstance(err, OSError) and err.errno in _TRANSIENT_ERRNOS:
        return True  # remote only: local reads are never retried
    names = {cls.__name__ for cls in type(err).__mro__}
    if names & _PERMANENT_CLIENT_ERRORS:
        return False
    return isinstance(err, (ConnectionError, TimeoutError)) or bool(names & _TRANSIENT_CLIENT_ERRORS)


#: aiohttp errors that may pass on a retry, and those that never do (matched by name: aiohttp is optional).
_TRANSIENT_CLIENT_ERRORS = {
    "ClientConnectionError", "ClientPayloadError", "ServerTimeoutError",  # aiohttp
    "ConnectionClosedError", "ReadTimeoutError", "EndpointConnectionError", "ConnectTimeoutError",  # botocore
}
#: s3fs turns S3 throttling into EBUSY, 500 InternalError into EREMOTEIO, 502/503/504 into EIO or EBUSY
_TRANSIENT_ERRNOS = {errno.EBUSY, errno.EREMOTEIO, errno.EIO, errno.ETIMEDOUT, errno.ECONNRESET, errno.EAGAIN}
_PERMANENT_CLIENT_ERRORS = {"ClientSSLError", "ClientConnectorCertificateError", "InvalidURL"}


def _read_local(source: Source, ranges: Sequence[tuple[int, int]], on_block: OnBlock | None) -> list[np.ndarray]:
    out = []
    with open(source.path, "rb", buffering=0) as f:
        size = _check_unchanged(source, f.fileno())
        for i, (start, end) in enumerate(ranges):
            _check_length(source, start, end, max(0, min(end, size) - start))  # before allocating: sizes from labels
            buf = np.empty(end - start, dtype=np.uint8)
            f.seek(start)
            if on_block is None:
                got = f.readinto(buf.data)
            else:
                got = _read_blocks(f, buf, i, on_block)
            _check_length(source, start, end, got or 0)
            out.append(buf)
        _check_unchanged(source, f.fileno())  # not rewritten while being read either
    return out


def _read_blocks(f: Any, buf: np.ndarray, i: int, on_block: OnBlock) -> int:
    """``readinto`` ``buf`` by pieces of :data:`BLOCK_BYTES`, each handed to ``on_block`` once read; bytes read."""
    view = memoryview(buf.data)
    for lo in range(0, buf.size, BLOCK_BYTES):
        n = f.readinto(view[lo : lo + BLOCK_BYTES]) or 0
        if n < min(BLOCK_BYTES, buf.size - lo):
            return lo + n  # short: the caller raises TruncatedFileError
        on_block(i, lo, buf[lo : lo + n])
    return int(buf.size)


def _check_unchanged(source: Source, fd: int) -> int:
    """The open file's size, after checking it against the source's stamp (when it has one)."""
    st = os.fstat(fd)
    if source.stamp is not None and (st.st_size, st.st_mtime_ns) != source.stamp:
        raise FileChangedError(
            source.url, "size, modification time", (st.st_size, st.st_mtime_ns), f"{source.stamp}, as when opened",
            "The file changed after the product was opened; open it again",
        )
    return st.st_size


def _check_length(source: Source, start: int, end: int, got: int) -> None:
    if got > end - start:
        raise RemoteReadError(
            source.url, f"bytes {start}-{end}", f"{got} bytes returned", f"{end - start} bytes",
            "The server ignored the Range header (it sent more than was asked); open 'simplecache::URL' "
            "to download whole files once instead",
        )
    if got != end - start:
        raise TruncatedFileError(
            source.url, f"bytes {start}-{end}", f"{got} bytes returned", f"{end - start} bytes",
            "The file is shorter than its label says",
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
        for i, (fs, directory) in enumerate(places[:1] if local else places):
            found = self._lookup(fs, directory, name)
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
            found += [self._confined(Source(fs, p), i, self.product.url, "sidecar")
                      for key, p in sorted(listing.items()) if pattern.fullmatch(key)]
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
            if read_exists(Source(fs, path)):
                return path
        return None

    def _listing(self, fs: fsspec.AbstractFileSystem, directory: str) -> dict[str, str] | None:
        key = (id(fs), directory)
        if key not in self._listings:
            self._listings[key] = _list_directory(fs, directory)
        return self._listings[key]


def _list_directory(fs: fsspec.AbstractFileSystem, directory: str) -> dict[str, str] | None:
    """The listing, or None when the directory cannot be listed (then names are tried one by one)."""
    try:
        return read_listing(Source(fs, directory))
    except (OSError, ValueError, NotImplementedError, RemoteReadError):
        return None


def _case_variants(name: str) -> Iterable[str]:
    return dict.fromkeys([name, name.upper(), name.lower()])
