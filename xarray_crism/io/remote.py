"""Remote byte ranges read straight into the caller's buffers, with retries.

HTTP bodies are copied once, piece by piece as they arrive, into the buffer the reader hands over
(:func:`~xarray_crism.io.http.read_http_ranges_into`): no whole-range ``bytes`` object, no copy into
an array afterwards. Other remote filesystems (``s3://``, chained caches) keep fsspec's
``cat_ranges``, whose bytes are copied into the buffers. Ranges that fail in a way that may pass are
read again (:mod:`xarray_crism.io.retries`); an answer that is not the one asked for is retried once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import fsspec

from .http import MismatchedAnswer, is_http, read_http_ranges_into
from .local import check_length
from .retries import MAX_ATTEMPTS, retry_or_raise, wait_before_retry
from .stamps import Stamp

__all__ = ["read_remote_into"]

Ranges = Sequence[tuple[int, int]]


def read_remote_into(
    fs: fsspec.AbstractFileSystem, path: str, url: str, stamp: Stamp | None, ranges: Ranges, views: Sequence[memoryview],
) -> None:
    """Read each range ``[start, end)`` into its view (``len(view) == end - start``), retrying the ranges that
    failed; a range that comes back with the wrong length raises :class:`~xarray_crism.errors.TruncatedFileError`
    (or :class:`~xarray_crism.errors.RemoteReadError` when longer)."""
    got: dict[int, int] = {}
    mismatched = False
    for attempt in range(1, MAX_ATTEMPTS + 2):
        pending = [i for i in range(len(ranges)) if i not in got]
        if not pending:
            break
        if is_http(fs):
            results = _read_http_pending(fs, path, stamp, ranges, views, pending)
        else:
            results = _read_fsspec_pending(fs, path, ranges, views, pending)
        failed = _keep_successes(pending, results, ranges, attempt, got)
        if failed is not None:
            what = f"bytes {ranges[failed[0]][0]}-{ranges[failed[0]][1]}"
            mismatched = _retry_range(url, what, failed[1], attempt, mismatched)
    for i, (start, end) in enumerate(ranges):
        check_length(url, start, end, got[i])


def _read_http_pending(
    fs: Any, path: str, stamp: Stamp | None, ranges: Ranges, views: Sequence[memoryview], pending: list[int],
) -> list[int | BaseException]:
    """Each pending range's byte count (always the range's length: short answers raise), or its exception."""
    done = read_http_ranges_into(fs, path, [ranges[i] for i in pending], stamp, [views[i] for i in pending])
    return [len(views[i]) if err is None else err for i, err in zip(pending, done, strict=True)]


def _read_fsspec_pending(
    fs: Any, path: str, ranges: Ranges, views: Sequence[memoryview], pending: list[int],
) -> list[int | BaseException]:
    """fsspec's ``cat_ranges``, each answer copied into its view (at most the view's length); its length, or the exception."""
    blobs = fs.cat_ranges([path] * len(pending), [ranges[i][0] for i in pending], [ranges[i][1] for i in pending])
    out: list[int | BaseException] = []
    for i, blob in zip(pending, blobs, strict=True):
        if not isinstance(blob, BaseException):
            n = min(len(blob), len(views[i]))
            views[i][:n] = memoryview(blob)[:n]
            blob = len(blob)
        out.append(blob)
    return out


def _retry_range(url: str, what: str, err: BaseException, attempt: int, mismatched: bool) -> bool:
    """Wait before retrying a failed range, or raise; an answer that did not match is retried once."""
    if isinstance(err, MismatchedAnswer):
        if mismatched or attempt > MAX_ATTEMPTS:
            raise err.final from None
        wait_before_retry(url, what, err, attempt)
        return True
    retry_or_raise(url, what, err, min(attempt, MAX_ATTEMPTS))
    return mismatched


def _keep_successes(
    pending: list[int], results: list[int | BaseException], ranges: Ranges, attempt: int, got: dict[int, int],
) -> tuple[int, BaseException] | None:
    """Record the ranges that came back (their byte counts); the first failure (index, error), or None.

    A short answer counts as a (transient) failure before the last attempt; on the last attempt it is
    kept, and :func:`~xarray_crism.io.local.check_length` then calls the file truncated.
    """
    failed = None
    for i, result in zip(pending, results, strict=True):
        expected = ranges[i][1] - ranges[i][0]
        if isinstance(result, BaseException):
            failed = failed or (i, result)
        elif attempt < MAX_ATTEMPTS and result < expected:
            failed = failed or (i, ConnectionError(f"short answer: {result} of {expected} bytes"))
        else:
            got[i] = result
    return failed
