"""Names and paths from labels, indexes, inventories and listings: none may lead out of its directory.

A plain name (a pointer, a sidecar, an inventory's ``file_name``) holds no directory, ``..``, ``~``,
URL, backslash or NUL; a relative path (an index row) holds no such segment either. Percent-encoded
bytes (``%2E%2E``, ``%2F``) are refused in both: an HTTP client decodes them into ``..`` and ``/``
after the check (PDS file names are letters, digits, ``_``, ``-`` and ``.``, never ``%``).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ..errors import UnsafePathError

__all__ = ["check_confined", "check_plain_name", "check_relative_path", "is_direct_child"]

_UNSAFE_NAME = re.compile(r"[/\\:\x00]|^\.\.?$|^~|%[0-9A-Fa-f]{2}")


class _File(Protocol):
    @property
    def fs(self) -> fsspec.AbstractFileSystem: ...
    @property
    def path(self) -> str: ...


_T = TypeVar("_T", bound=_File)


def check_plain_name(name: str, label: str, keyword: str) -> str:
    """Refuse names that leave the product's directory (``../x``, ``/etc/x``, URLs, ``%2E%2E``)."""
    if not name or _UNSAFE_NAME.search(name):
        raise UnsafePathError(
            label, keyword, name, "a plain file name in the product's directory",
            "Pointers and sidecar names may not hold directories, '..', URLs or percent-encoded bytes",
        )
    return name


def check_relative_path(path: str, label: str, keyword: str) -> str:
    """Refuse a relative path (``a/b/c.lbl``) that could leave its root: ``..``, ``~``, URLs, backslashes, ``%XX``."""
    parts = path.split("/")
    if not path or any(not part or _UNSAFE_NAME.search(part) for part in parts):
        raise UnsafePathError(
            label, keyword, path,
            "a relative path inside the volume (no '..', '~', URLs, backslashes or percent-encoded bytes)",
            "Index rows may only name files inside their volume",
        )
    return path


def is_direct_child(directory: str, entry: str) -> bool:
    """Whether a listing's ``entry`` is a file or directory right inside ``directory`` (a listing page may
    link ``../elsewhere/NAME.IMG``, ``./x``, ``%2E%2E/x`` or another server: none of them is)."""
    parent, name = posixpath.split(entry.rstrip("/"))
    return parent == directory.rstrip("/") and bool(name) and not _UNSAFE_NAME.search(name)


def check_confined(source: _T, roots: Sequence[str], label: str, keyword: str) -> _T:
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
