"""Retries of remote requests: which failures may pass on another try, how often, how long to wait.

Remote requests (reads, sizes, existence checks, directory listings) that fail in a way that may
pass (HTTP 5xx, 408, 429, S3 throttling, a dropped or refused connection, a timeout, an answer
shorter than asked) are retried: :data:`MAX_ATTEMPTS` attempts in all, waiting
:data:`BACKOFF_SECONDS` doubled after each (with up to 25% jitter), each retry logged as a warning
on the ``xarray_crism`` logger; then :class:`~xarray_crism.errors.RemoteReadError` names the file,
what was read and the last error. Anything else (missing files, refused permissions, bad URLs,
certificate errors) fails at once. An answer that is not the one asked for (another range, another
file, another version: :class:`~xarray_crism.io.http.MismatchedAnswer`) is retried once.
"""

from __future__ import annotations

import errno
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import CrismError, RemoteReadError
from .http import MismatchedAnswer, ShortAnswer

__all__ = ["BACKOFF_SECONDS", "MAX_ATTEMPTS", "call_retrying", "retry_or_raise", "wait_before_retry"]

#: Attempts per remote request (the first one and its retries).
MAX_ATTEMPTS = 4
#: The first wait between attempts, in seconds (doubled after each, with up to 25% jitter).
BACKOFF_SECONDS = 0.2
logger = logging.getLogger("xarray_crism")
_T = TypeVar("_T")


def call_retrying(url: str, what: str, call: Callable[[], _T]) -> _T:
    """``call()``, retried on transient errors (a remote request)."""
    attempt = 1
    while True:
        try:
            return call()
        except Exception as err:
            retry_or_raise(url, what, err, attempt)
            attempt += 1


def retry_or_raise(url: str, what: str, err: BaseException, attempt: int) -> None:
    """Wait before the next attempt, or raise: ``err`` itself when it is not transient."""
    if isinstance(err, MismatchedAnswer):
        raise err.final from None  # callers that retry mismatches once do so before calling this
    if not _is_transient(err):
        raise err
    if attempt >= MAX_ATTEMPTS:
        if isinstance(err, ShortAnswer):
            raise err.final from None
        cause = _root_cause(err)
        unreachable = bool({cls.__name__ for cls in type(cause).__mro__} & _UNREACHABLE)
        raise RemoteReadError(
            url, what, f"{type(cause).__name__}: {cause}", f"an answer within {MAX_ATTEMPTS} attempts",
            _UNREACHABLE_HINT if unreachable else "The server kept failing; try again later, or copy the file locally",
        ) from err
    wait_before_retry(url, what, err, attempt)


def _root_cause(err: BaseException) -> BaseException:
    """The error under fsspec's ``FileNotFoundError`` wrapping of a failed HTTP ``size``/``info``."""
    while isinstance(err, FileNotFoundError) and err.__cause__ is not None:
        err = err.__cause__
    return err


#: Errors that mean no server answered at all (refused connection, unknown host), matched by name.
_UNREACHABLE = {"ClientConnectorError", "ConnectionRefusedError", "gaierror", "EndpointConnectionError"}
_UNREACHABLE_HINT = (
    "The host could not be reached (connection refused or name not resolved): check the URL's host and port "
    "and the network, or copy the file locally"
)


def wait_before_retry(url: str, what: str, err: BaseException, attempt: int) -> None:
    """Log the failure and sleep the back-off of ``attempt`` (1 for the first retry)."""
    wait = BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(1.0, 1.25)
    logger.warning("%s: reading %s failed (%s: %s); attempt %d of %d in %.2f s",
                   url, what, type(err).__name__, err, attempt + 1, MAX_ATTEMPTS, wait)
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
