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

from ..errors import LabelSyntaxError
from ..io.sources import SidecarFinder, Source, open_source
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
) -> tuple[Product, SidecarFinder]:
    """Read a label (local path or fsspec URL) and build its product model.

    ``location`` may be a detached label, a PDS4 XML label, an IMG with an attached ODL header,
    or a data file without one (then its ``.LBL`` or ``.xml`` beside it is read instead).
    """
    source = open_source(location, storage_options)
    finder = SidecarFinder(source, tuple(sidecar_dirs), storage_options)
    try:
        label = read_label_text(source)
    except LabelSyntaxError:
        detached = _detached_label(finder)
        if detached is None:
            raise
        source, finder = detached, SidecarFinder(detached, tuple(sidecar_dirs), storage_options)
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
