"""Command line: ``xarray-crism show`` (:mod:`xarray_crism.cli.main`; quick looks :mod:`xarray_crism.cli.quicklook`),
``xarray-crism convert`` (:mod:`xarray_crism.cli.convert`) and ``xarray-crism download`` (:mod:`xarray_crism.cli.download`)."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
