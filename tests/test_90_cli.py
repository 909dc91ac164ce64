"""Layer 9: the console script on the shipped sample."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

import xarray_crism
from xarray_crism.cli import main


def test_show_prints_the_sample_and_writes_a_png(tmp_path: Path, capsys: object) -> None:
    png = tmp_path / "quicklook.png"
    assert main(["show", "--png", str(png)]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "i_over_f" in out and "FRT00014679_01_IF156S_TRR3" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_show_reports_a_package_error_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.lbl"
    bad.write_text('PRODUCT_ID = "NOPE"\nEND\n')
    result = subprocess.run([sys.executable, "-m", "xarray_crism.cli", "show", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2 and "bad.lbl" in result.stderr and "PRODUCT_ID" in result.stderr


def test_shipped_sample_is_the_real_product() -> None:
    ds = xr.open_dataset(xarray_crism.sample_path(), engine="crism", mask_and_scale=False)
    assert ds.attrs["product_id"] == "FRT00014679_01_IF156S_TRR3"
    assert ds.sizes == {"band": 107, "line": 15, "sample": 64}
    assert ds.wavelength.attrs["source"].startswith("CDR450924300802_WA0300000S_2")
    assert float(ds.wavelength.min()) == float(np.nanmin(ds.wavelength.values)) > 350
