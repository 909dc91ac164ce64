"""From a PDS4 XML label to a :class:`~xarray_crism.model.product.Product` (reads labels, never data).

Generic over PDS4 arrays: every ``Array*`` class of every ``File_Area_Observational`` becomes a
variable (the product kind's variable name for the first, ``<name>_<local_identifier>`` for
others), with its ``scaling_factor``/``value_offset`` and ``Special_Constants`` as CF encoding.
The product is identified from the label's file name (same naming as the PDS3 products), so a
Mastcam-Z RAD/IOF and a CRISM product migrated to PDS4 go through the same code.
"""

from __future__ import annotations

import posixpath
from typing import Any

from ..errors import LabelValueError
from ..formats.conventions import MASKED_CONSTANTS, build_cf_encoding, cf_units, slug
from ..formats.layouts import build_pds4_layout
from ..formats.products import identify_product
from ..io.sources import SidecarFinder, Source
from ..labels.pds4 import Pds4Array, find_path, parse_pds4_label
from .build_pds3 import build_band_index, build_preferred_chunks, check_disjoint, data_source
from .product import DiskArray, Product, Variable, build_label_attr

__all__ = ["build_pds4_product"]

#: Attribute -> path in any PDS4 label (mission attributes come from their own tables).
PDS4_COMMON_ATTRIBUTES = {
    "logical_identifier": "Identification_Area/logical_identifier",
    "version_id": "Identification_Area/version_id",
    "title": "Identification_Area/title",
    "start_time": "Time_Coordinates/start_date_time",
    "stop_time": "Time_Coordinates/stop_date_time",
    "target_name": "Target_Identification/name",
}


def build_pds4_product(source: Source, text: str, finder: SidecarFinder) -> Product:
    """Build the model of the product whose PDS4 label text is ``text``."""
    label = parse_pds4_label(text, source.url)
    product_id = posixpath.splitext(source.name)[0].upper()
    pid, kind = identify_product(product_id, source.url)
    attrs = {name: v for name, path in PDS4_COMMON_ATTRIBUTES.items() if (v := find_path(label.index, path)) is not None}
    attrs |= {"product_id": pid.product_id, "product_family": pid.family, "product_code": pid.code}
    attrs["pds_label"] = build_label_attr(text)
    product = Product(source, pid, kind, label.tree, text, attrs=attrs, label_format="PDS4")
    arrays = [(area.file_name, array) for area in label.file_areas for array in area.arrays]
    if not arrays:
        raise LabelValueError(source.url, "File_Area_Observational/Array*", None, "an Array_2D/3D class with a data file")
    for i, (file_name, array) in enumerate(arrays):
        _add_array(product, finder, file_name, array, first=i == 0)
    product.coords["band"] = build_band_index(product.sizes.get("band", 1))
    return check_disjoint(product)


def _add_array(product: Product, finder: SidecarFinder, file_name: str, array: Pds4Array, first: bool) -> None:
    url = product.source.url
    layout = build_pds4_layout(array, file_name, url)
    src, size = data_source(finder, layout.filename, "File_Area_Observational/File/file_name")
    layout.check_fits(size, src.url)
    data = DiskArray(src, layout)
    encoding: dict[str, Any] = build_cf_encoding(
        data.dtype, array.scaling_factor, array.value_offset, array.special_constants, url
    )
    encoding["preferred_chunks"] = build_preferred_chunks(layout)
    kind = product.kind
    name = kind.variable if first and kind.variable else slug(array.local_identifier or array.name)
    attrs = {k: v for k, v in (("long_name", kind.long_name), ("units", cf_units(array.unit) or kind.units)) if v}
    attrs |= {f"pds4_{k}": v for k, v in array.special_constants.items() if k not in MASKED_CONSTANTS}
    product.variables[name] = Variable(data, attrs, encoding)
