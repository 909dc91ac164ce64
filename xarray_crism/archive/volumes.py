"""Archive volumes (SIS sections 2-3) and PDS4 bundles: find the index, read it, locate the products.

A PDS3 volume is given by its root (``.../mrocr_2104/``) or by one of its index labels
(``.../mrocr_2104/INDEX/CUMINDEX.LBL``); a PDS4 bundle by its root (it has a ``data`` collection)
or its collection label (see :mod:`xarray_crism.archive.bundles`).

Which index: ``INDEX/INDEX.LBL`` (this volume's products) when present, else the monthly
``INDEX/*_INDEX.LBL`` (SIS Table 3-16: required), else ``CUMINDEX.LBL``; browse indexes
(``*_BRINDEX``) are left out. ``CUMINDEX`` lists the products of *all* the volumes of the set (with
paths relative to their own roots), so an index is cut to the rows whose ``VOLUME_ID`` is the volume's
(the root's directory name, or the one ``VOLUME_ID`` all rows share); an index that lists several
volumes, none named like the root, is an error rather than a catalog of broken paths.

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

import numpy as np

from ..errors import LabelValueError, QueryError, SidecarNotFoundError
from ..io.sources import Source, check_relative_path, open_source, read_exists, read_listing
from .row_filters import normalised_values

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PATH_CASES", "Volume", "build_label_path", "check_index_columns", "find_index_labels", "read_volume"]

#: How a volume's files are named relative to its index: as written, lower case, upper case.
PATH_CASES = ("as-is", "lower", "upper")
_MONTHLY_INDEX = re.compile(r"(?!.*BRINDEX).+_INDEX\.LBL")
_PROBES = 3
#: The index columns every catalog entry is built from (SIS Table 3-17).
_REQUIRED_COLUMNS = ("PRODUCT_ID", "FILE_SPECIFICATION_NAME")
#: What ``check_index_paths`` looks for before the one rule of ``check_relative_path`` (see there).
_ESCAPES = re.compile(r"(?:^|/)\s*(?:\.\.?|~[^/]*)\s*(?:/|$)|[:\\\x00]|%[0-9A-Fa-f]{2}")
_CANDIDATE_ROWS = 65536
#: Index columns that must hold numbers (footprints and bounding-box filters compare them).
_COORDINATE_SUFFIXES = ("_LATITUDE", "_LONGITUDE")


@dataclass(frozen=True, eq=False)
class Volume:
    """A volume's root (URL), its index (a DataFrame) and how its file names are cased."""

    root: Source
    index: pd.DataFrame
    path_case: str
    detached_labels: bool = True

    def product_url(self, spec: str) -> str:
        """The URL of the label of the product the index lists at ``spec`` (the file itself if attached)."""
        path = build_label_path(spec, self.path_case, detached=self.detached_labels)
        check_relative_path(path, str(self.index.attrs.get("label", self.root.url)), "FILE_SPECIFICATION_NAME")
        return Source(self.root.fs, posixpath.join(self.root.path, path)).url


def read_volume(
    location: str | os.PathLike[str], *, storage_options: dict[str, Any] | None = None, path_case: str = "auto",
) -> Volume:
    """Read a volume's index (from its root or an index label) and settle how its paths are cased."""
    if path_case != "auto" and path_case not in PATH_CASES:
        raise QueryError(os.fspath(location), "path_case", path_case, f"'auto' or one of {PATH_CASES}")
    source = open_source(location, storage_options)
    index, root, detached = _read_any_index(source, storage_options)
    if detached:
        index = select_volume_rows(index, root)
    check_index_columns(index, str(index.attrs.get("label", source.url)))
    check_index_paths(index, str(index.attrs.get("label", source.url)))
    index.attrs["volume_root"] = root.url
    volume = Volume(root, index, path_case, detached)
    return volume if path_case != "auto" else Volume(root, index, _probe_case(volume), detached)


def check_index_paths(index: pd.DataFrame, label: str) -> None:
    """Refuse an index whose ``FILE_SPECIFICATION_NAME`` leaves its volume (``..``, ``~``, URLs, backslashes,
    percent-encoded bytes such as ``%2E%2E``)."""
    if "FILE_SPECIFICATION_NAME" not in index:
        return
    specs = index["FILE_SPECIFICATION_NAME"].astype(str)
    maybe = specs[find_escape_candidates(specs.fillna("").tolist())]
    bad = maybe[maybe.str.contains(_ESCAPES.pattern, regex=True)]
    for spec in bad.unique():  # a quick filter above, the one rule of check_relative_path here
        check_relative_path(build_label_path(spec, "as-is", detached=False), label, "FILE_SPECIFICATION_NAME")


def find_escape_candidates(specs: list[str]) -> np.ndarray:
    """Which paths ``_ESCAPES`` might match (never fewer than it does), from their code points, in blocks.

    A match needs a ``.`` or ``~`` that starts a path component (first, or after ``/`` and blanks), or
    ``:``, ``\\``, NUL or ``%``: far fewer rows than a whole index, on which the regex then runs.
    Characters beyond Latin-1 count as blanks (more candidates, never fewer).
    """
    found = [_candidates(specs[start : start + _CANDIDATE_ROWS]) for start in range(0, len(specs), _CANDIDATE_ROWS)]
    return np.concatenate(found) if found else np.zeros(0, dtype=bool)


def _candidates(specs: list[str]) -> np.ndarray:
    lengths = np.fromiter(map(len, specs), dtype=np.intp, count=len(specs))
    width = int(lengths.max(initial=0))
    if not width:
        return np.zeros(len(specs), dtype=bool)
    points = np.array(specs, dtype=f"U{width}").view(np.uint32).reshape(len(specs), width)
    hits = (points == ord(":")) | (points == ord("\\")) | (points == ord("%"))
    found = hits.any(axis=1) | ((points == 0).sum(axis=1) > width - lengths)  # a NUL inside, not the padding
    rows, columns = np.nonzero((points == ord(".")) | (points == ord("~")))
    before = points[rows, np.maximum(columns - 1, 0)]
    opens = (columns == 0) | (before == ord("/")) | _is_blank(before)  # first in a component, blanks aside
    found[rows[opens]] = True
    return np.asarray(found)


def _is_blank(points: np.ndarray) -> np.ndarray:
    """Whether each code point is ``str.isspace`` in Latin-1 (tab..CR, FS..space, NEL, NBSP), or beyond Latin-1."""
    return np.asarray(((points - 9) <= 4) | ((points - 28) <= 4) | (points == 0x85) | (points == 0xA0) | (points > 0xFF))


def check_index_columns(index: pd.DataFrame, label: str) -> None:
    """Refuse an index without the columns a catalog needs, or with coordinates that are not numbers."""
    from pandas.api.types import is_numeric_dtype

    missing = [c for c in _REQUIRED_COLUMNS if c not in index]
    if missing:
        raise LabelValueError(label, "COLUMN NAME", missing, f"an index table with columns {', '.join(_REQUIRED_COLUMNS)}")
    for column in index.columns:
        if str(column).endswith(_COORDINATE_SUFFIXES) and not is_numeric_dtype(index[column]):
            raise LabelValueError(label, f"{column} DATA_TYPE", str(index[column].dtype), "ASCII_REAL (degrees)")


def select_volume_rows(index: pd.DataFrame, root: Source) -> pd.DataFrame:
    """The rows of the volume at ``root`` (see the module docstring), attributes kept."""
    if "VOLUME_ID" not in index:
        return index
    codes, ids = normalised_values(index["VOLUME_ID"])  # each distinct VOLUME_ID stripped and upper-cased once
    name = root.name.upper()
    if (ids == name).any():
        mine = np.append((ids == name).to_numpy(dtype=bool, na_value=False), False)[codes]
        return index if mine.all() else index[mine]
    if ids.nunique() <= 1:
        return index
    raise LabelValueError(
        index.attrs.get("table_url", root.url), "VOLUME_ID", sorted(ids.dropna().unique())[:5],
        f"the volume's own rows (VOLUME_ID = {name!r}, the volume directory's name)",
        "A cumulative index lists several volumes: open the volume root whose name is its VOLUME_ID",
    )


def find_index_labels(index_dir: Source) -> list[Source]:
    """``INDEX.LBL``, else the monthly ``*_INDEX.LBL`` (sorted), else ``CUMINDEX.LBL`` (any case)."""
    names = _listing(index_dir)
    monthly = [path for name, path in sorted(names.items()) if _MONTHLY_INDEX.fullmatch(name) and name != "CUMINDEX.LBL"]
    for found in ([names.get("INDEX.LBL")], monthly, [names.get("CUMINDEX.LBL")]):
        paths = [p for p in found if p]
        if paths:
            return [Source(index_dir.fs, p) for p in paths]
    raise SidecarNotFoundError(index_dir.url, "INDEX", None, "INDEX.LBL, *_INDEX.LBL or CUMINDEX.LBL index labels")


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
            root.url, "INDEX", sorted(listing)[:8], "an INDEX directory (PDS3 volume) or a data collection label "
            "(PDS4 bundle), any case, in the directory given",
            "Give the volume's root (the directory that holds INDEX/), or its index label itself",
        )
    return read_collection_index(collection, posixpath.basename(data.path)), root, False


def _read_indexes(labels: list[Source], storage_options: dict[str, Any] | None) -> pd.DataFrame:
    from .index import read_index

    frames = [read_index(label.url, storage_options=storage_options) for label in labels]
    return frames[0] if len(frames) == 1 else _concat(frames)


def _listing(directory: Source) -> dict[str, str]:
    try:
        return read_listing(directory)
    except FileNotFoundError as err:
        raise SidecarNotFoundError(
            directory.url, "volume", directory.url, "a directory that exists and can be listed (a volume root, "
            "its INDEX directory or a bundle's data collection)",
            "Check the path or URL; a volume's index label (INDEX/INDEX.LBL) may be given instead of its root",
        ) from err


def _probe_case(volume: Volume) -> str:
    root = volume.root
    specs = [str(s) for s in volume.index["FILE_SPECIFICATION_NAME"].dropna().head(_PROBES)]
    if not specs:
        return "as-is"  # an empty index: nothing to open
    for spec in specs:
        for case in PATH_CASES:
            path = build_label_path(spec, case, detached=volume.detached_labels)
            if read_exists(Source(root.fs, posixpath.join(root.path, path))):
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
