"""Writers of spec-faithful products, for tests, documentation and users (the public home of the writers).

:mod:`~xarray_crism.testing.cubes` writes CRISM cubes, housekeeping tables, SW CDRs and ADRs;
:mod:`~xarray_crism.testing.maps` map-projected products and their WV tables; :mod:`~xarray_crism.testing.pds4`
Mastcam-Z IMGs and PDS4 labels; :mod:`~xarray_crism.testing.volume` archive volumes, index tables and PDS4
bundles. This layer imports nothing of the package: its products are checked by the readers, never built with
them.
"""

from __future__ import annotations

from .cubes import GeneratedProduct, label_header, write_adr, write_cube, write_hk_table, write_sw_table
from .maps import MapGrid, equirectangular_grid, polar_grid, write_envi_header, write_map_product, write_wv_table
from .pds4 import PDS4_TYPES, write_img_for_pds4, write_mastcamz_img, write_pds4_label
from .volume import FOOTPRINTS, INDEX_COLUMNS, MASTCAMZ_BUNDLE, write_crism_volumes, write_index, write_mastcamz_bundle

__all__ = [
    "FOOTPRINTS", "INDEX_COLUMNS", "MASTCAMZ_BUNDLE", "PDS4_TYPES", "GeneratedProduct", "MapGrid",
    "equirectangular_grid", "label_header", "polar_grid", "write_adr", "write_crism_volumes", "write_cube",
    "write_envi_header", "write_hk_table", "write_img_for_pds4", "write_index", "write_map_product",
    "write_mastcamz_bundle", "write_mastcamz_img", "write_pds4_label", "write_sw_table", "write_wv_table",
]
