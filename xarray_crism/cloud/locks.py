"""One converter per product at a time: an exclusive lock beside the product's partial path.

Two converters started on one target would otherwise each take the other's partial product for
what a killed run left, delete it, and publish a store that does not open. So a conversion holds
``<store>.partial/<name>.lock`` from before it looks at the target until after it publishes:

- **on a local disk** the lock file is held with ``flock``: the kernel releases it when its holder
  exits, killed or not, so a lock is never left stale, and a partial product found by the holder of
  the lock is a killed run's;
- **on object stores** the lock object is created with a conditional put (``If-None-Match: *``,
  s3fs' ``mode="create"``): exactly one writer creates it; it is deleted when the conversion ends.
  A converter killed without cleaning up (``SIGKILL``, a lost machine) leaves it: the next run is
  refused with an error naming it and its holder, to be deleted by hand once no conversion runs.

Each lock carries a random run token, also written into the product's record (``run``): a
conversion publishes its partial product only if the record found there carries its own token.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import posixpath
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import StoreExistsError
from .stores import RECORD_KEY, Store

__all__ = ["ProductLock", "check_own_partial", "hold_product_lock"]

_SUFFIX = ".lock"


@dataclass
class ProductLock:
    """A held lock: its path, this run's token, and (local) the open descriptor that holds it."""

    store: Store
    path: str
    token: str
    fd: int | None = None


@contextlib.contextmanager
def hold_product_lock(store: Store, name: str) -> Iterator[ProductLock]:
    """Hold product ``name``'s lock while the block runs.

    Raises :class:`~xarray_crism.errors.StoreExistsError` if another run holds it.
    """
    lock = _acquire(store, name)
    try:
        yield lock
    finally:
        _release(lock)


def lock_path(store: Store, name: str) -> str:
    """Where product ``name``'s lock lives: beside its partial path."""
    return store.partial(name) + _SUFFIX


def _holder(token: str) -> bytes:
    return json.dumps({"token": token, "host": socket.gethostname(), "pid": os.getpid(),
                       "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode()


def _acquire(store: Store, name: str) -> ProductLock:
    path, token = lock_path(store, name), secrets.token_hex(16)
    if store.is_local:
        return ProductLock(store, path, token, _lock_local(store, path, token))
    _lock_remote(store, path, token)
    return ProductLock(store, path, token)


def _lock_local(store: Store, path: str, token: str) -> int:
    import fcntl

    fd = _open_creating_directory(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino != os.stat(path).st_ino:  # unlinked by its last holder after we opened it
            raise BlockingIOError(errno.EWOULDBLOCK, "lock file replaced")
    except OSError as err:
        os.close(fd)
        raise _held(store, path, _read_holder(path), local=True) from err
    os.ftruncate(fd, 0)
    os.write(fd, _holder(token))
    return fd


def _open_creating_directory(path: str, attempts: int = 5) -> int:
    """Open (create) the lock file; its directory may be removed by another product's run meanwhile."""
    for attempt in range(attempts):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _lock_remote(store: Store, path: str, token: str) -> None:
    try:
        store.fs.pipe_file(path, _holder(token), mode="create")
    except (OSError, FileExistsError) as err:
        store.fs.invalidate_cache(path)
        if not store.fs.exists(path):
            raise
        raise _held(store, path, _read_remote_holder(store, path), local=False) from err


def _held(store: Store, path: str, holder: dict[str, Any], *, local: bool) -> StoreExistsError:
    who = f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}" if holder else "unknown"
    hint = "another conversion is writing this product: wait for it to finish and run again (it is then skipped)"
    if not local:
        hint += f"; if no conversion is running (one was killed), delete {store.url(path)}"
    return StoreExistsError(store.url(path), "lock", who, "no other conversion writing this product", hint)


def _read_holder(path: str) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError), open(path, "rb") as f:
        found = json.loads(f.read() or b"{}")
        return found if isinstance(found, dict) else {}
    return {}


def _read_remote_holder(store: Store, path: str) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        found = json.loads(store.fs.cat_file(path) or b"{}")
        return found if isinstance(found, dict) else {}
    return {}


def _release(lock: ProductLock) -> None:
    """Remove the lock (local: unlink before unlocking, so a waiter never holds an unlinked file)."""
    if lock.fd is not None:
        with contextlib.suppress(OSError):
            os.unlink(lock.path)
        os.close(lock.fd)
        with contextlib.suppress(OSError):  # not empty: other products are being written
            os.rmdir(os.path.dirname(lock.path))
        return
    if _read_remote_holder(lock.store, lock.path).get("token") == lock.token:
        lock.store.fs.rm_file(lock.path)


def check_own_partial(store: Store, name: str, lock: ProductLock) -> None:
    """Refuse to publish a partial product whose record is not this run's, or a lock no longer ours."""
    document: Any = {}
    with contextlib.suppress(OSError, ValueError):
        document = json.loads(store.fs.cat_file(posixpath.join(store.partial(name), "zarr.json")))
    record = document.get("attributes", {}).get(RECORD_KEY, {}) if isinstance(document, dict) else {}
    run = record.get("run") if isinstance(record, dict) else None
    owner = lock.token if store.is_local else _read_remote_holder(store, lock.path).get("token")
    if run != lock.token or owner != lock.token:
        raise StoreExistsError(
            store.url(store.partial(name)), "run", run, f"this conversion's own partial product (run {lock.token})",
            "another conversion wrote here at the same time: nothing was published; run again",
        )
