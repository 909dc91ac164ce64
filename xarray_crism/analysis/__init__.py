"""Layer 6: lazy CRISM and Mastcam-Z analysis on the Datasets of :mod:`xarray_crism.xr`.

The ``ds.crism`` and ``ds.zcam`` accessors (:mod:`.accessors`) front these modules: band masks and
spectral order (:mod:`.bands`), summary parameters (:mod:`.parameters`, :mod:`.summary`), browse products
(:mod:`.browse`), photometric and volcano-scan corrections (:mod:`.corrections`,
:mod:`.adr_selection`), ratios, despiking and mean spectra (:mod:`.spectra`) and Mastcam-Z parameters
(:mod:`.mastcamz`). Importing this package registers the accessors.
"""

from __future__ import annotations

from . import accessors

__all__ = ["accessors"]
