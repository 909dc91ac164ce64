"""The real sample product shipped inside the package."""

from __future__ import annotations

import importlib.resources

__all__ = ["sample_path"]

SAMPLE_LABEL = "frt00014679_01_if156s_trr3.lbl"


def sample_path() -> str:
    """Path of the shipped sample TRDR label (a real VNIR I/F product, 15 x 64 x 107)."""
    return str(importlib.resources.files("xarray_crism") / "data" / "sample" / SAMPLE_LABEL)
