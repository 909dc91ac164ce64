"""The real products shipped inside the package (``xarray_crism/data/sample/``, provenance in ``PROVENANCE.txt``).

``sample_path()`` is the VNIR TRDR; ``sample_path(name)`` any of :data:`SAMPLES`; the calibration
files they need (their WA CDR4s) sit beside them, so sidecars are found without ``sidecar_dirs``::

    >>> import xarray_crism
    >>> sorted(xarray_crism.samples.SAMPLES)
    ['ir_trdr', 'mastcamz_raw', 'mastcamz_rgb', 'vnir_trdr']
"""

from __future__ import annotations

import importlib.resources
from typing import Literal, NamedTuple, get_args

from .errors import QueryError

__all__ = ["SAMPLES", "Sample", "SampleName", "sample_path"]

#: The names of the shipped samples.
SampleName = Literal["vnir_trdr", "ir_trdr", "mastcamz_rgb", "mastcamz_raw"]


class Sample(NamedTuple):
    """One shipped product: its file (label, or IMG with an attached label) and what it is."""

    file: str
    description: str


#: The shipped samples by name (all real PDS products; see ``PROVENANCE.txt``).
SAMPLES: dict[SampleName, Sample] = {
    "vnir_trdr": Sample("frt00014679_01_if156s_trr3.lbl", "CRISM TRDR I/F, VNIR (S), 15 lines x 64 samples x 107 bands"),
    "ir_trdr": Sample("frt0001458f_01_if156l_trr3.lbl", "CRISM TRDR I/F, IR (L), 15 lines x 64 samples x 438 bands"),
    "mastcamz_rgb": Sample(
        "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02.IMG",
        "Mastcam-Z left-eye RAD, debayered R, G, B (688 x 624): the calibration target, sol 711",
    ),
    "mastcamz_raw": Sample(
        "ZL0_0709_0729888971_069RAD_N0332864ZCAM07114_0340LMA01.IMG",
        "Mastcam-Z left-eye RAD, raw Bayer mosaic (1200 x 1648): rocks, sol 709",
    ),
}
#: The sample ``sample_path()`` returns (kept for compatibility: the first product ever shipped).
SAMPLE_LABEL = SAMPLES["vnir_trdr"].file


def sample_path(name: SampleName = "vnir_trdr") -> str:
    """Path of a shipped real product (default: the VNIR I/F TRDR, 15 x 64 x 107); names in :data:`SAMPLES`."""
    if name not in SAMPLES:
        raise QueryError("xarray_crism.sample_path", "name", name, f"one of {list(get_args(SampleName))}",
                         "See xarray_crism.samples.SAMPLES for what each one is")
    return str(importlib.resources.files("xarray_crism") / "data" / "sample" / SAMPLES[name].file)
