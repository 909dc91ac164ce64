"""HTTP reads checked against the request and the file's stamp: a wrong answer is never taken for bytes.

fsspec's ``HTTPFileSystem`` keeps whatever a ``206`` answer carries and inflates compressed answers
before anyone can count them, so ranged and whole-file GETs are made here, on the filesystem's own
aiohttp session (its ``client_kwargs`` and request options apply). Each ranged answer is checked
before its body is read:

- it is ``206`` with ``Content-Range: bytes start-end/total`` for exactly the range asked (an
  honest shorter answer is retried like a dropped connection), or ``200`` with the whole file when the
  whole file was asked;
- ``total`` and, when the server sends them, ``ETag`` and ``Last-Modified`` are those stamped when the
  product was opened (:func:`read_http_stamp`), so another file's bytes or a replaced file are caught;
- it is not encoded (``Accept-Encoding: identity`` is sent; a gzip answer is refused unread);
- no more body than asked is ever read.

A mismatch (:class:`MismatchedAnswer`) is retried once, then raised as :class:`~xarray_crism.errors.FileChangedError`
or :class:`~xarray_crism.errors.RemoteReadError` naming the file and the range.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import fsspec
from fsspec.asyn import sync

from ..errors import CrismError, FileChangedError, RemoteReadError, TruncatedFileError
from .stamps import Stamp

__all__ = [
    "MismatchedAnswer", "ShortAnswer", "check_head_answer", "check_range_answer", "is_http", "is_listing_refused",
    "read_http_head", "read_http_ranges_into", "read_http_stamp", "read_http_whole",
]

_CONTENT_RANGE = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*")
_UNSATISFIED = re.compile(r"\s*bytes\s+\*/(\d+)\s*")
#: Statuses of a directory GET that mean "this server does not list directories" (then names are probed).
LISTING_REFUSED = (401, 403, 405)
IGNORED_RANGE_HINT = ("The server ignored the Range header (it sent the whole file); open 'simplecache::URL' "
                      "to download whole files once instead")
READ_CHUNK = 1 << 20


class MismatchedAnswer(Exception):
    """An answer that is not the one asked for (another range, another file, another version): retried
    once, then ``final`` is raised."""

    def __init__(self, final: CrismError) -> None:
        super().__init__(str(final))
        self.final = final


class ShortAnswer(ConnectionError):
    """An honest but short answer (or a body cut short): retried like a dropped connection; after the
    last attempt ``final`` (:class:`~xarray_crism.errors.TruncatedFileError`) is raised."""

    def __init__(self, final: CrismError) -> None:
        super().__init__(str(final))
        self.final = final


def is_http(fs: fsspec.AbstractFileSystem) -> bool:
    """Whether ``fs`` is fsspec's HTTP filesystem (aiohttp is optional: without it, nothing is)."""
    module = sys.modules.get("fsspec.implementations.http")
    return module is not None and isinstance(fs, module.HTTPFileSystem)


def is_listing_refused(err: BaseException) -> bool:
    """A directory GET answered 401, 403 or 405 (nginx autoindex off, S3 websites, Apache ``-Indexes``)."""
    return getattr(err, "status", None) in LISTING_REFUSED


def read_http_stamp(fs: fsspec.AbstractFileSystem, url: str) -> Stamp:
    """The file's size, ``ETag`` and ``Last-Modified`` (one HEAD, sent with ``Accept-Encoding: identity``)."""
    info = fs.info(url)
    if info.get("size") is None:
        raise _no_size(url)
    return Stamp(int(info["size"]), etag=info.get("ETag"), modified=info.get("Last-Modified"))


def read_http_head(fs: fsspec.AbstractFileSystem, url: str, limit: int) -> tuple[bytes, Stamp]:
    """The first ``limit`` bytes of a file (all of it when smaller) and its stamp, in one GET: the size
    comes from ``Content-Range`` (or ``Content-Length`` of a whole-file answer), with ``ETag`` and
    ``Last-Modified`` when sent. No more than ``limit`` bytes of body are read."""
    data, stamp = sync(fs.loop, _get_head, fs, url, limit)
    return bytes(data), stamp


def read_http_ranges_into(
    fs: fsspec.AbstractFileSystem, url: str, ranges: Sequence[tuple[int, int]], stamp: Stamp | None,
    views: Sequence[memoryview],
) -> list[BaseException | None]:
    """Byte ranges ``[start, end)`` of one file, concurrently, each body copied as it arrives into its view
    (``len(view) == end - start``): None for each range read whole, or the exception it raised."""
    return list(sync(fs.loop, _gather_ranges, fs, url, list(ranges), stamp, list(views)))


def read_http_whole(fs: fsspec.AbstractFileSystem, url: str, limit: int) -> bytes:
    """A whole file of at most ``limit`` bytes; no more than ``limit + 1`` bytes are ever read."""
    return bytes(sync(fs.loop, _get_whole, fs, url, limit))


async def _gather_ranges(
    fs: Any, url: str, ranges: list[tuple[int, int]], stamp: Stamp | None, views: list[memoryview],
) -> list[BaseException | None]:
    import asyncio

    reads = (_get_range(fs, url, s, e, stamp, v) for (s, e), v in zip(ranges, views, strict=True))
    return list(await asyncio.gather(*reads, return_exceptions=True))


def _request_options(fs: Any, extra: Mapping[str, str]) -> dict[str, Any]:
    """The filesystem's request options (auth, headers ...) with ``extra`` headers and no compression."""
    options = dict(fs.kwargs)
    options["headers"] = {**options.get("headers", {}), **extra, "Accept-Encoding": "identity"}
    return options


async def _get_range(fs: Any, url: str, start: int, end: int, stamp: Stamp | None, view: memoryview) -> None:
    if end <= start:
        return
    session = await fs.set_session()
    options = _request_options(fs, {"Range": f"bytes={start}-{end - 1}"})
    async with session.get(fs.encode_url(url), **options) as r:
        _raise_for_status(r, url, start, end)
        check_range_answer(url, start, end, r.status, r.headers, stamp)
        await _read_into(r, url, f"bytes {start}-{end}", view)


async def _get_head(fs: Any, url: str, limit: int) -> tuple[bytes, Stamp]:
    session = await fs.set_session()
    async with session.get(fs.encode_url(url), **_request_options(fs, {"Range": f"bytes=0-{limit - 1}"})) as r:
        if _is_empty_file(r):
            return b"", Stamp(0, etag=r.headers.get("ETag"), modified=r.headers.get("Last-Modified"))
        _raise_for_status(r, url, 0, limit)
        stamp, length = check_head_answer(url, limit, r.status, r.headers)
        view = memoryview(bytearray(length))
        await _read_into(r, url, f"bytes 0-{len(view)}", view, whole=r.status == 206)
    return view.obj, stamp  # type: ignore[return-value]


async def _get_whole(fs: Any, url: str, limit: int) -> bytes:
    session = await fs.set_session()
    async with session.get(fs.encode_url(url), **_request_options(fs, {})) as r:
        _raise_for_status(r, url, 0, 0)
        body = await _read_at_most(r, limit + 1)
    if len(body) > limit:
        raise TruncatedFileError(url, "label size", f"over {limit} bytes", f"at most {limit} bytes")
    return body


def _is_empty_file(r: Any) -> bool:
    """A ``416`` whose ``Content-Range: bytes */0`` says the file is empty (no range of it can be satisfied)."""
    m = _UNSATISFIED.fullmatch(r.headers.get("Content-Range", "")) if r.status == 416 else None
    return m is not None and int(m[1]) == 0


def _raise_for_status(r: Any, url: str, start: int, end: int) -> None:
    """404 as ``FileNotFoundError``, 416 (range past the end) as a truncated file, other 4xx as
    :class:`~xarray_crism.errors.RemoteReadError`, 5xx, 408 and 429 as aiohttp's (transient)."""
    if r.status == 404:
        raise FileNotFoundError(url)
    m = _UNSATISFIED.fullmatch(r.headers.get("Content-Range", "")) if r.status == 416 else None
    if m is not None:
        raise _truncated(url, start, end, int(m[1]))
    if 400 <= r.status < 500 and r.status not in (408, 429):  # refused for good: not worth a retry
        what = f"bytes {start}-{end}" if end else "whole file"
        raise RemoteReadError(url, what, f"HTTP {r.status} {r.reason or ''}".strip(), "HTTP 200 or 206",
                              "The server refuses this file (permissions, method or URL)")
    r.raise_for_status()  # 5xx, 408, 429: retried by the caller


def check_head_answer(url: str, limit: int, status: int, headers: Mapping[str, str]) -> tuple[Stamp, int]:
    """The file's stamp and the body length to read, from the answer to a GET of its first ``limit`` bytes,
    after checking it: a ``206`` from byte 0 that ends no later than ``limit`` and the end of the file, or a
    ``200`` (the whole file) with its size."""
    what = f"bytes 0-{limit}"
    _check_encoding(url, what, headers)
    if status == 206:
        first, last, total = _parse_content_range(url, what, headers.get("Content-Range"))
        if total is None:
            raise _no_size(url)
        if first != 0 or last >= min(limit, total):
            raise MismatchedAnswer(RemoteReadError(
                url, what, f"Content-Range: bytes {first}-{last}/{total}", f"bytes 0-{min(limit, total) - 1}/{total}",
                "The server sent other bytes than the range asked for",
            ))
        _check_span(url, 0, last + 1, first, last, headers)  # a shorter honest answer is kept: labels read on
        return Stamp(total, etag=headers.get("ETag"), modified=headers.get("Last-Modified")), last + 1
    if status == 200 and headers.get("Content-Length", "").strip().isdigit():
        size = int(headers["Content-Length"])  # the Range was ignored: only the first bytes are read
        return Stamp(size, etag=headers.get("ETag"), modified=headers.get("Last-Modified")), min(limit, size)
    if status == 200:
        raise _no_size(url)
    raise MismatchedAnswer(RemoteReadError(url, what, f"HTTP {status}", "HTTP 206 (Partial Content) or 200"))


def _no_size(url: str) -> RemoteReadError:
    return RemoteReadError(
        url, "size", None, "a Content-Length (or Content-Range) header giving the file's size",
        "The server sends this file without a size (chunked or compressed), so its ranges cannot be checked; "
        "open 'simplecache::URL' to download it whole first",
    )


def check_range_answer(
    url: str, start: int, end: int, status: int, headers: Mapping[str, str], stamp: Stamp | None,
) -> int:
    """The body length to read for bytes ``[start, end)``, after checking the answer's status and headers."""
    what = f"bytes {start}-{end}"
    if status == 200 and start == 0 and headers.get("Content-Length", "").strip() == str(end):
        _check_encoding(url, what, headers)  # the range asked was the whole file, and that is what came
        _check_version(url, what, end, headers, stamp)
        return end
    if status != 206:
        raise MismatchedAnswer(RemoteReadError(url, what, f"HTTP {status}", "HTTP 206 (Partial Content)",
                                               IGNORED_RANGE_HINT if status == 200 else ""))
    _check_encoding(url, what, headers)
    first, last, total = _parse_content_range(url, what, headers.get("Content-Range"))
    if total is not None and total < end:
        error = _truncated(url, start, end, total, stamp)
        raise MismatchedAnswer(error) if stamp is not None and stamp.size != total else error
    _check_version(url, what, total, headers, stamp)
    _check_span(url, start, end, first, last, headers)
    return end - start


def _check_encoding(url: str, what: str, headers: Mapping[str, str]) -> None:
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise RemoteReadError(
            url, what, f"Content-Encoding: {encoding}", "an unencoded answer (Accept-Encoding: identity was sent)",
            "The server compresses byte ranges, so their length cannot be checked before inflating them; "
            "open 'simplecache::URL' to download whole files once instead",
        )


def _parse_content_range(url: str, what: str, header: str | None) -> tuple[int, int, int | None]:
    m = _CONTENT_RANGE.fullmatch(header or "")
    if m is None:
        raise MismatchedAnswer(RemoteReadError(
            url, what, f"Content-Range: {header}", "Content-Range: bytes FIRST-LAST/SIZE on a 206 answer",
            "The server's answer does not say which bytes it holds",
        ))
    return int(m[1]), int(m[2]), None if m[3] == "*" else int(m[3])


def _check_version(url: str, what: str, total: int | None, headers: Mapping[str, str], stamp: Stamp | None) -> None:
    """The answer's size, ETag and Last-Modified against the stamp (each when both sides have it)."""
    if stamp is None:
        return
    now = {"size": total, "ETag": _tag(headers.get("ETag")), "Last-Modified": headers.get("Last-Modified")}
    was = {"size": stamp.size, "ETag": _tag(stamp.etag), "Last-Modified": stamp.modified}
    changed = [k for k in now if now[k] is not None and was[k] is not None and now[k] != was[k]]
    if changed:
        raise MismatchedAnswer(FileChangedError(
            url, f"{what}: {', '.join(changed)}", [now[k] for k in changed], f"{[was[k] for k in changed]}, as when opened",
            "The file changed on the server after the product was opened (or the server sent another file); "
            "open it again",
        ))


def _tag(etag: str | None) -> str | None:
    """An ETag without its weak marker (``W/"x"`` and ``"x"`` name one version)."""
    return None if etag is None else etag.strip().removeprefix("W/")


def _check_span(url: str, start: int, end: int, first: int, last: int, headers: Mapping[str, str]) -> None:
    what = f"bytes {start}-{end}"
    length = headers.get("Content-Length")
    if first != start or last > end - 1 or last < first or (length is not None and length.strip() != str(last - first + 1)):
        raise MismatchedAnswer(RemoteReadError(
            url, what, f"Content-Range: bytes {first}-{last}, Content-Length: {length}",
            f"bytes {start}-{end - 1} ({end - start} bytes)",
            "The server sent other bytes than the range asked for",
        ))
    if last < end - 1:
        raise ShortAnswer(TruncatedFileError(
            url, what, f"{last - first + 1} bytes returned", f"{end - start} bytes", "The server kept answering short",
        ))


def _truncated(url: str, start: int, end: int, total: int, stamp: Stamp | None = None) -> TruncatedFileError:
    changed = "" if stamp is None or stamp.size == total else f" (it had {stamp.size} bytes when opened: open it again)"
    return TruncatedFileError(url, f"bytes {start}-{end}", f"a file of {total} bytes", f"at least {end} bytes",
                              f"The file is shorter than its label says{changed}")


async def _read_into(r: Any, url: str, what: str, view: memoryview, *, whole: bool = True) -> None:
    """Fill ``view`` with the body, each piece copied once as it arrives (aiohttp's own buffers, no joining);
    with ``whole``, a body longer than ``view`` is an error (the rest is never read)."""
    got, size = 0, len(view)
    while got < size:
        chunk, _ = await r.content.readchunk()
        if not chunk:
            raise ShortAnswer(TruncatedFileError(url, what, f"{got} bytes returned", f"{size} bytes",
                                                 "The answer was cut short"))
        n = min(len(chunk), size - got)
        view[got : got + n] = memoryview(chunk)[:n]
        got += n
        if n < len(chunk) and whole:
            raise _too_long(url, what, size)
    if whole and (await r.content.readchunk())[0]:
        raise _too_long(url, what, size)


def _too_long(url: str, what: str, size: int) -> RemoteReadError:
    return RemoteReadError(url, what, f"over {size} bytes returned", f"{size} bytes",
                           "The server sent more than its Content-Range says")


async def _read_at_most(r: Any, limit: int) -> bytes:
    """The body, or its first ``limit`` bytes: the rest is never read (nor inflated)."""
    chunks: list[bytes] = []
    got = 0
    while got < limit:
        chunk = await r.content.read(min(READ_CHUNK, limit - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
