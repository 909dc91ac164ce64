"""PDS3 archive volumes (SIS sections 2-3): find a volume's index, read it, locate its products.

A volume is given by its root (``.../mrocr_2104/``) or by one of its index labels
(``.../mrocr_2104/INDEX/CUMINDEX.LBL``). From the root, ``INDEX/CUMINDEX.LBL`` is read when present
(SIS Table 3-16: it lists every product of the volume), else every ``INDEX/*_INDEX.LBL`` (the
monthly tables), concatenated; browse indexes (``*_BRINDEX``) are left out.

``FILE_SPECIFICATION_NAME`` paths are relative to the volume root and written in upper case,
while the public servers hold lower-case files. Which case the files use is probed once per
volume (the first listed products, tried as written, lower case and upper case) and then applied to
every entry; ``path_case`` sets it without probing. A path whose extension is not ``.LBL`` (the SIS's
own example names the ``.IMG``) stands for the detached label of the same name.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import QueryError, SidecarNotFoundError
from .sources import Source, open_source

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PATH_CASES", "Volume", "build_label_path", "find_index_labels", "read_volume"]

#: How a volume's files are named relative to its index: as written, lower case, upper case.
PATH_CASES = ("as-is", "lower", "upper")
_INDEX_LABEL = re.compile(r"(?!.*BRINDEX).*INDEX\.LBL")
_PROBES = 3


@dataclass(frozen=True)
class Volume:
    """A volume's root (URL), its index (a DataFrame) and how its file names are cased."""

    root: Source
    index: pd.DataFrame
    path_case: str

    def product_url(self, spec: str) -> str:
        """The URL of the label of the product the index lists at ``spec``."""
        return Source(self.root.fs, posixpath.join(self.root.path, build_label_path(spec, self.path_case))).url


def read_volume(
    location: str | os.PathLike[str], *, storage_options: dict[str, Any] | None = None, path_case: str = "auto",
) -> Volume:
    """Read a volume's index (from its root or an index label) and settle how its paths are cased."""
    from .index import read_index

    source = open_source(location, storage_options)
    labels, root = _index_labels_and_root(source)
    frames = [read_index(label.url, storage_options=storage_options) for label in labels]
    index = frames[0] if len(frames) == 1 else _concat(frames)
    index.attrs["volume_root"] = root.url
    if path_case == "auto":
        path_case = _probe_case(root, index)
    elif path_case not in PATH_CASES:
        raise QueryError(root.url, "path_case", path_case, f"'auto' or one of {PATH_CASES}")
    return Volume(root, index, path_case)


def find_index_labels(root: Source) -> list[Source]:
    """``INDEX/CUMINDEX.LBL`` when present, else every ``INDEX/*_INDEX.LBL`` (any case), sorted."""
    index_dir = _child(root, "INDEX")
    if index_dir is None:
        raise SidecarNotFoundError(root.url, "INDEX", None, "an INDEX directory (any case) in the volume root")
    names = _listing(index_dir)
    if "CUMINDEX.LBL" in names:
        return [Source(root.fs, names["CUMINDEX.LBL"])]
    found = [Source(root.fs, path) for name, path in sorted(names.items()) if _INDEX_LABEL.fullmatch(name)]
    if not found:
        raise SidecarNotFoundError(index_dir.url, "INDEX", None, "CUMINDEX.LBL or *_INDEX.LBL index labels")
    return found


def build_label_path(spec: str, path_case: str) -> str:
    """The label path for an index's ``FILE_SPECIFICATION_NAME``, in the volume's case."""
    spec = re.sub(r"\s*/\s*", "/", spec.strip()).lstrip("/")
    stem, ext = posixpath.splitext(spec)
    if ext.upper() != ".LBL":
        spec = stem + (".lbl" if ext.islower() else ".LBL")
    return {"lower": spec.lower(), "upper": spec.upper()}.get(path_case, spec)


def _index_labels_and_root(source: Source) -> tuple[list[Source], Source]:
    if source.name.upper().endswith(".LBL"):
        return [source], Source(source.fs, posixpath.dirname(source.directory))
    root = Source(source.fs, source.path.rstrip("/"))
    return find_index_labels(root), root


def _child(parent: Source, name: str) -> Source | None:
    path = _listing(parent).get(name.upper())
    return None if path is None else Source(parent.fs, path)


def _listing(directory: Source) -> dict[str, str]:
    try:
        entries = directory.fs.ls(directory.path, detail=False)
    except FileNotFoundError as err:
        raise SidecarNotFoundError(directory.url, "volume directory", None, "a directory that exists and can be listed") from err
    return {posixpath.basename(str(p).rstrip("/")).upper(): str(p).rstrip("/") for p in entries}


def _probe_case(root: Source, index: pd.DataFrame) -> str:
    specs = [str(s) for s in index["FILE_SPECIFICATION_NAME"].dropna().head(_PROBES)]
    if not specs:
        return "as-is"  # an empty index: nothing to open
    for spec in specs:
        for case in PATH_CASES:
            if root.fs.exists(posixpath.join(root.path, build_label_path(spec, case))):
                return case
    raise SidecarNotFoundError(
        root.url, "FILE_SPECIFICATION_NAME", specs[0] if specs else None,
        "a product listed in the index that exists under the volume root (as written, lower or upper case)",
        "Pass path_case='lower' (or 'upper', 'as-is') to skip this check for a partial mirror",
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    out = pd.concat(frames, ignore_index=True)
    out.attrs = {"label": [f.attrs["label"] for f in frames], "table_url": [f.attrs["table_url"] for f in frames]}
    return out
