"""Command line: ``xarray-crism show`` (:mod:`~xarray_crism.cli.main`) and ``xarray-crism convert`` (:mod:`~xarray_crism.cli.convert`)."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
