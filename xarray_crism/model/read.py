"""Read a product's label (local path or fsspec URL) and build its model, PDS3 or PDS4.

The one entry of the model layer into the builders: :mod:`.build_pds3` for ODL labels (detached or
attached), :mod:`.build_pds4` for PDS4 XML. Companions (wavelengths, DDRs, WV tables) are joined
afterwards by :func:`~xarray_crism.model.pipeline.open_product`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from typing import Any

from ..errors import CrismError, LabelNotFoundError, LabelSyntaxError, UnsupportedProductError
from ..io.sources import Listings, SidecarFinder, Source, open_source
from ..labels.headers import read_label_text
from .build_pds3 import build_product
from .build_pds4 import build_pds4_product
from .product import Product

__all__ = ["read_product"]


def read_product(
    location: str | os.PathLike[str],
    *,
    sidecar_dirs: Sequence[str | os.PathLike[str]] = (),
    storage_options: dict[str, Any] | None = None,
    listings: Listings | None = None,
) -> tuple[Product, SidecarFinder]:
    """Read a label (local path or fsspec URL) and build its product model.

    ``location`` may be a detached label, a PDS4 XML label, an IMG with an attached ODL header,
    or a data file without one (then its ``.LBL`` or ``.xml`` beside it is read instead). ``listings``:
    the directory listings already made in this open (a companion's finder shares its product's).
    """
    source = open_source(location, storage_options)
    listings = {} if listings is None else listings
    finder = SidecarFinder(source, tuple(sidecar_dirs), storage_options, listings)
    try:
        label = read_label_text(source)
    except IsADirectoryError as err:
        raise _directory_error(source) from err
    except FileNotFoundError as err:
        raise _not_found_error(source, os.fspath(location)) from err
    except LabelSyntaxError as err:
        detached = _detached_label(finder)
        if detached is None:
            raise _missing_label_error(source, err) from err
        source, finder = detached, SidecarFinder(detached, tuple(sidecar_dirs), storage_options, listings)
        label = read_label_text(source)
    if label.kind == "xml":
        return build_pds4_product(source, label.text, finder), finder
    return build_product(source, label.text, finder), finder


def _detached_label(finder: SidecarFinder) -> Source | None:
    stem = posixpath.splitext(finder.product.name)[0]
    for suffix in (".LBL", ".xml"):
        found = finder.find(stem + suffix, finder.product.url, "label", local=True)
        if found is not None:
            return found
    return None


_LABEL_SUFFIXES = (".lbl", ".xml", ".lbl.txt")


def _directory_error(source: Source) -> UnsupportedProductError:
    """A directory given where a product's label was expected: name its labels, or point to catalogs."""
    labels = sorted(p for p in source.fs.ls(source.path, detail=False) if p.lower().endswith(_LABEL_SUFFIXES))
    some = ", ".join(posixpath.basename(p) for p in labels[:3]) or "none here"
    return UnsupportedProductError(
        source.url, "path", source.url, f"a product's label file (.LBL, .xml) or an IMG with an attached label, "
        f"not a directory (labels in it: {some})",
        "Open one of its labels (its full path), or a whole archive volume with xarray_crism.open_catalog(directory)",
    )


def _not_found_error(source: Source, given: str) -> LabelNotFoundError:
    relative = "://" not in given and not os.path.isabs(given)
    where = f" (a relative path starts from the working directory, {os.getcwd()})" if relative else ""
    return LabelNotFoundError(
        source.url, "path", given, f"an existing product label or data file{where}",
        "Check the path or URL; the shipped sample is xarray_crism.sample_path()",
    )


def _missing_label_error(source: Source, err: LabelSyntaxError) -> CrismError:
    """A binary file (an IMG without its LBL) says which label is missing; a broken text label stays a syntax error."""
    if not isinstance(err.value, bytes) or _looks_like_text(err.value):
        return err
    stem = posixpath.splitext(source.name)[0]
    return LabelNotFoundError(
        source.url, "label", f"{stem}.LBL or {stem}.xml",
        f"a detached label beside this data file ({source.directory}, any case), or an attached label",
        "This is a data file without its label: download its .LBL too and put it beside it, "
        "then open the label (or the IMG)",
    )


def _looks_like_text(head: bytes) -> bool:
    return all(32 <= b < 127 or b in b"\t\r\n" for b in head)
