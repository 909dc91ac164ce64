"""Command line: ``xarray-crism show`` (:mod:`.main`) and ``xarray-crism convert`` (:mod:`.convert`)."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
