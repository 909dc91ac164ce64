"""``python -m xarray_crism.cli``: the ``xarray-crism`` command."""

from __future__ import annotations

import sys

from .main import main

sys.exit(main())
