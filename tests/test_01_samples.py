"""The real products shipped in the package: every one opens, with its calibration beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.errors import QueryError
from xarray_crism.samples import SAMPLES, sample_path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
EXPECTED = {  # name -> (product ID, sizes, corpus file it was copied from)
    "vnir_trdr": ("FRT00014679_01_IF156S_TRR3", {"band": 107, "line": 15, "sample": 64}, "crism/trdr"),
    "ir_trdr": ("FRT0001458F_01_IF156L_TRR3", {"band": 438, "line": 15, "sample": 64}, "crism/trdr"),
    "mastcamz_rgb": ("ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02", {"band": 3, "line": 688, "sample": 624},
                     "mastcamz/rad"),
    "mastcamz_raw": ("ZL0_0709_0729888971_069RAD_N0332864ZCAM07114_0340LMA01", {"band": 1, "line": 1200, "sample": 1648},
                     "mastcamz/rad"),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_sample_opens_as_the_real_product(name: str) -> None:
    product_id, sizes, corpus = EXPECTED[name]
    path = Path(sample_path(name))
    ds = xr.open_dataset(path, engine="crism", mask_and_scale=False)
    assert ds.attrs["product_id"] == product_id and dict(ds.sizes) == sizes
    data = path.with_suffix(".img") if path.suffix == ".lbl" else path
    assert data.read_bytes() == (CORPUS / corpus / data.name).read_bytes()  # copied unchanged
    if name.endswith("trdr"):  # the WA CDR beside it gives the wavelengths
        assert ds.wavelength.attrs["source"].endswith("(WA CDR4, SW definition)")
        assert np.isfinite(ds.wavelength.values).sum() >= sizes["band"] - 1


def test_the_default_sample_and_a_wrong_name() -> None:
    assert xarray_crism.sample_path() == sample_path("vnir_trdr")
    with pytest.raises(QueryError, match=r"name = 'IR'; expected one of \['vnir_trdr', 'ir_trdr'"):
        sample_path("IR")  # type: ignore[arg-type]


def test_the_samples_stay_small_and_each_file_has_its_provenance() -> None:
    folder = Path(sample_path()).parent
    files = [f for f in folder.iterdir() if f.name != "PROVENANCE.txt"]
    assert sum(f.stat().st_size for f in files) < 12_000_000
    provenance = (folder / "PROVENANCE.txt").read_text()
    assert all(f.stem in provenance for f in files)
    assert {s.file for s in SAMPLES.values()} <= {f.name for f in files}
