"""What a file was when its product was opened, so that every later read can check it is still that file.

A local file's stamp is its size, modification time, inode and status-change time (``st_ctime_ns``
moves on every write, rename onto it or ``utime``, so a same-size rewrite whose modification time was
put back, or an atomic replace by another file, is caught). A remote (HTTP) file's stamp is its size
and, when the server sends them, its ``ETag`` and ``Last-Modified`` headers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import FileChangedError

__all__ = ["Stamp", "build_local_stamp", "check_local_stamp"]


@dataclass(frozen=True)
class Stamp:
    """A file's identity when opened: its size plus the facts the filesystem gives about its version."""

    size: int
    #: Local files: (modification time ns, inode, status-change time ns).
    local: tuple[int, int, int] | None = None
    #: HTTP files: the ``ETag`` and ``Last-Modified`` headers (None when the server did not send one).
    etag: str | None = None
    modified: str | None = None


def build_local_stamp(st: os.stat_result) -> Stamp:
    """The stamp of a local file from its ``stat``."""
    return Stamp(st.st_size, (st.st_mtime_ns, st.st_ino, st.st_ctime_ns))


def check_local_stamp(url: str, stamp: Stamp | None, st: os.stat_result) -> int:
    """The file's size, after checking its ``stat`` against ``stamp`` (when there is one)."""
    now = build_local_stamp(st)
    if stamp is not None and now != stamp:
        raise FileChangedError(
            url, "size, modification time, inode, status-change time", _facts(now), f"{_facts(stamp)}, as when opened",
            "The file changed after the product was opened; open it again",
        )
    return st.st_size


def _facts(stamp: Stamp) -> tuple[int, ...]:
    return (stamp.size, *(stamp.local or ()))
