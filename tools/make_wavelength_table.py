"""Derive ``xarray_crism/data/sw_wavelengths.csv`` from real WA CDR4 files.

Usage: python tools/make_wavelength_table.py ../shared/corpus/crism/cdr/*_WA*.LBL

For every WA CDR (one per sensor and calibration epoch), each detector row's wavelength is the
SIS standard-sampling definition: the mean of the row over unbinned columns 270-369 (IR) or
260-359 (VNIR), mapped to the file's binning; 65535 (non-scene) columns are left out. When two
files share a sensor and epoch, the least binned wins. The output is what a TRDR opened alone
(no SW table, no WA file found) gets as ``wavelength``, by the epoch rule of the SW tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from xarray_crism.formats.wavelengths import build_sw_wavelengths, parse_sclk
from xarray_crism.model.read import read_product

OUT = Path(__file__).resolve().parents[1] / "xarray_crism" / "data" / "sw_wavelengths.csv"


def main(labels: list[str]) -> None:
    best: dict[tuple[str, int, int], tuple[int, str, np.ndarray, np.ndarray]] = {}
    for label in labels:
        wa, _ = read_product(label)
        binning = int(wa.attrs["pixel_averaging_width"])
        sensor = str(wa.product_id.sensor)
        epoch = parse_sclk(wa.attrs["spacecraft_clock_start_count"])
        assert epoch is not None
        image = wa.variables["center_wavelength"].data.read((slice(None), 0, slice(None)))
        rows = wa.coords["detector_row"].data.read((slice(None),))
        nm = build_sw_wavelengths(image, binning, sensor)
        key = (sensor, *epoch)
        if key not in best or binning < best[key][0]:
            best[key] = (binning, wa.product_id.product_id, rows, nm)
    lines = [
        "# SW wavelengths per detector row, derived by tools/make_wavelength_table.py",
        "# from the real WA CDR4 files named in source_product_id (NASA PDS, public domain).",
        "sensor,sclk_partition,sclk_time,source_product_id,detector_row,wavelength_nm",
    ]
    for (sensor, part, time), (_, source, rows, nm) in sorted(best.items()):
        lines += [f"{sensor},{part},{time},{source},{r},{w:.4f}" for r, w in zip(rows, nm, strict=True) if np.isfinite(w)]
    OUT.write_text("\n".join(lines) + "\n", encoding="ascii")
    print(f"wrote {OUT} ({len(lines) - 3} rows)")


if __name__ == "__main__":
    main(sys.argv[1:])
