"""Archive volumes (SIS sections 2-3) and PDS4 bundles: find the index, read it, locate the products.

A PDS3 volume is given by its root (``.../mrocr_2104/``) or by one of its index labels
(``.../mrocr_2104/INDEX/CUMINDEX.LBL``); a PDS4 bundle by its root (it has a ``data`` collection)
or its collection label (see :mod:`xarray_crism.bundles`). From the root, ``INDEX/CUMINDEX.LBL`` is read when present
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
    detached_labels: bool = True

    def product_url(self, spec: str) -> str:
        """The URL of the label of the product the index lists at ``spec`` (the file itself if attached)."""
        path = build_label_path(spec, self.path_case, detached=self.detached_labels)
        return Source(self.root.fs, posixpath.join(self.root.path, path)).url


def read_volume(
    location: str | os.PathLike[str], *, storage_options: dict[str, Any] | None = None, path_case: str = "auto",
) -> Volume:
    """Read a volume's index (from its root or an index label) and settle how its paths are cased."""
    source = open_source(location, storage_options)
    index, root, detached = _read_any_index(source, storage_options)
    index.attrs["volume_root"] = root.url
    volume = Volume(root, index, path_case, detached)
    if path_case == "auto":
        return Volume(root, index, _probe_case(volume), detached)
    if path_case not in PATH_CASES:
        raise QueryError(root.url, "path_case", path_case, f"'auto' or one of {PATH_CASES}")
    return volume


def find_index_labels(index_dir: Source) -> list[Source]:
    """``INDEX/CUMINDEX.LBL`` when present, else every ``INDEX/*_INDEX.LBL`` (any case), sorted."""
    names = _listing(index_dir)
    if "CUMINDEX.LBL" in names:
        return [Source(index_dir.fs, names["CUMINDEX.LBL"])]
    found = [Source(index_dir.fs, path) for name, path in sorted(names.items()) if _INDEX_LABEL.fullmatch(name)]
    if not found:
        raise SidecarNotFoundError(index_dir.url, "INDEX", None, "CUMINDEX.LBL or *_INDEX.LBL index labels")
    return found


def build_label_path(spec: str, path_case: str, *, detached: bool = True) -> str:
    """The label path for an index's ``FILE_SPECIFICATION_NAME``, in the volume's case."""
    spec = re.sub(r"\s*/\s*", "/", spec.strip()).lstrip("/")
    stem, ext = posixpath.splitext(spec)
    if detached and ext.upper() != ".LBL":
        spec = stem + (".lbl" if ext.islower() else ".LBL")
    return {"lower": spec.lower(), "upper": spec.upper()}.get(path_case, spec)


def _read_any_index(source: Source, storage_options: dict[str, Any] | None) -> tuple[pd.DataFrame, Source, bool]:
    """(index, root, detached labels) of a PDS3 volume or PDS4 bundle, from its root or index/collection label."""
    from .bundles import find_collection_label, read_collection_index

    parent = Source(source.fs, posixpath.dirname(source.directory))
    if source.name.upper().endswith(".LBL"):
        return _read_indexes([source], storage_options), parent, True
    if source.name.upper().endswith(".XML"):
        return read_collection_index(source, posixpath.basename(source.directory)), parent, False
    root = Source(source.fs, source.path.rstrip("/"))
    listing = _listing(root)
    if "INDEX" in listing:
        return _read_indexes(find_index_labels(Source(root.fs, listing["INDEX"])), storage_options), root, True
    data = Source(root.fs, listing["DATA"]) if "DATA" in listing else None
    collection = None if data is None else find_collection_label(data, _listing(data))
    if data is None or collection is None:
        raise SidecarNotFoundError(
            root.url, "INDEX", None, "an INDEX directory (PDS3 volume) or a data collection label (PDS4 bundle), any case",
        )
    return read_collection_index(collection, posixpath.basename(data.path)), root, False


def _read_indexes(labels: list[Source], storage_options: dict[str, Any] | None) -> pd.DataFrame:
    from .index import read_index

    frames = [read_index(label.url, storage_options=storage_options) for label in labels]
    return frames[0] if len(frames) == 1 else _concat(frames)


def _listing(directory: Source) -> dict[str, str]:
    try:
        entries = directory.fs.ls(directory.path, detail=False)
    except FileNotFoundError as err:
        raise SidecarNotFoundError(directory.url, "volume directory", None, "a directory that exists and can be listed") from err
    return {posixpath.basename(str(p).rstrip("/")).upper(): str(p).rstrip("/") for p in entries}


def _probe_case(volume: Volume) -> str:
    root = volume.root
    specs = [str(s) for s in volume.index["FILE_SPECIFICATION_NAME"].dropna().head(_PROBES)]
    if not specs:
        return "as-is"  # an empty index: nothing to open
    for spec in specs:
        for case in PATH_CASES:
            if root.fs.exists(posixpath.join(root.path, build_label_path(spec, case, detached=volume.detached_labels))):
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
