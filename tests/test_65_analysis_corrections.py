"""Layer 6 analysis: photometric and volcano-scan corrections on the real IR TRDR and real VS ADRs.

The ADR's transmission and artifact spectra are read here independently (NumPy on the IMG: line
interleaved float32, the detector rows right after the image) and the corrections' defining identities
are checked: after McGuire, R'(2007) / R'(1980) = 1; log(R / R') = beta log(T) along each spectrum.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xarray_crism  # noqa: F401  (registers ds.crism)
from xarray_crism.analysis.adr_selection import select_vs_adr
from xarray_crism.errors import ShapeMismatchError, SidecarNotFoundError
from xarray_crism.testing import write_cube

from .conftest import CRISM
from .test_60_generated import DDR_NAMES, DDR_TEMPLATE

ADR_DIR = CRISM / "adr"
TRDR = "frt0001458f_01_if156l_trr3.lbl"


def read_vs_adr(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(lines, bands, samples) float32 and the detector rows, straight from the IMG."""
    text = (ADR_DIR / f"{name}.LBL").read_text(encoding="latin-1")
    dims = {k: int(text.split(f"{k}")[1].split("=")[1].split()[0]) for k in (" LINES ", " LINE_SAMPLES ", " BANDS ")}
    lines, samples, bands = dims[" LINES "], dims[" LINE_SAMPLES "], dims[" BANDS "]
    raw = (ADR_DIR / f"{name}.IMG").read_bytes()
    image = np.frombuffer(raw, "<f4", lines * bands * samples).reshape(lines, bands, samples)
    rows = np.frombuffer(raw, ">u2", bands, offset=image.nbytes) & 0x1FF
    return image, rows


@pytest.fixture
def trdr_dir(corpus_copy: Path) -> Path:
    for f in ADR_DIR.iterdir():
        shutil.copy(f, corpus_copy / f.name)
    return corpus_copy


def _on_trdr_rows(ds: xr.Dataset, spectra: np.ndarray, rows: np.ndarray) -> np.ndarray:
    where = {int(r): i for i, r in enumerate(rows)}
    return np.stack([spectra[where[int(r)]] for r in ds.detector_row.values])  # (band, sample)


@pytest.mark.parametrize(("method", "pair", "line"), [("mcguire", (2007, 1980), 1), ("pelkey", (2011, 1899), 2)])
def test_volcano_scan_identities_on_the_real_trdr(trdr_dir: Path, method: str, pair: tuple[int, int], line: int) -> None:
    ds = xr.open_dataset(trdr_dir / TRDR, engine="crism", chunks={})
    out = ds.crism.atmospheric(method=method, artifact=False).compute()
    assert out.attrs["vs_adr_product_id"] == "ADR10000000000_061C4_VS30L_8" and "atmospheric" in out.attrs["history"]
    image, rows = read_vs_adr("ADR10000000000_061C4_VS30L_8")
    t = _on_trdr_rows(ds, image[0], rows)[:, None, :]  # (band, 1, sample)
    r, corrected, beta = ds.i_over_f.values.astype(float), out.i_over_f.values.astype(float), out.beta.values
    waves = ds.wavelength.values
    i1, i2 = (int(np.nanargmin(np.abs(waves - w))) for w in pair)
    expected_beta = np.log(r[i1] / r[i2]) / np.log(t[i1] / t[i2])
    np.testing.assert_allclose(beta, expected_beta, rtol=1e-5)
    valid = np.isfinite(beta)
    assert valid.sum() > 800
    np.testing.assert_allclose((corrected[i1] / corrected[i2])[valid], 1.0, rtol=1e-5)  # R'(w1) / R'(w2) = 1
    good = np.isfinite(r) & np.isfinite(corrected) & (t > 0) & (r > 0) & valid[None]
    np.testing.assert_allclose(np.log(r / corrected)[good], (beta[None] * np.log(t) * np.ones_like(r))[good], atol=2e-5)


def test_artifact_scale_is_solved_per_pixel(trdr_dir: Path) -> None:
    ds = xr.open_dataset(trdr_dir / TRDR, engine="crism")
    plain = ds.crism.atmospheric(artifact=False)
    out = ds.crism.atmospheric(adr=trdr_dir / "ADR10000000000_061C4_VS30L_8.LBL")
    image, rows = read_vs_adr("ADR10000000000_061C4_VS30L_8")
    art = _on_trdr_rows(ds, image[1], rows)  # line 2: McGuire's artifact
    waves = ds.wavelength.values
    lo, hi = (int(np.nanargmin(np.abs(waves - w))) for w in (1764, 2239))
    for line, sample in [(3, 10), (7, 30), (12, 55)]:
        spectrum = plain.i_over_f.values[:, line, sample].astype(float)
        inside = [b for b in range(len(waves)) if min(waves[lo], waves[hi]) < waves[b] < max(waves[lo], waves[hi])]
        num = den = 0.0
        for b in inside:
            continuum = spectrum[lo] + (waves[b] - waves[lo]) / (waves[hi] - waves[lo]) * (spectrum[hi] - spectrum[lo])
            num += (continuum - spectrum[b]) * art[b, sample]
            den += art[b, sample] ** 2
        np.testing.assert_allclose(out.artifact_scale.values[line, sample], num / den, rtol=1e-4)
        np.testing.assert_allclose(out.i_over_f.values[:, line, sample], spectrum + num / den * art[:, sample], rtol=1e-5)


def test_adr_selection_rule() -> None:
    ds = xr.Dataset(attrs={"sensor": "L", "pixel_averaging_width": 10, "wavelength_filter": "0", "observation_id": "0001458F"})
    names = ["ADR10000000000_061C4_VS30L_8.LBL", "ADR10000000000_061C4_VS30L_6.LBL", "ADR30000000000_14000_VS30L_8.LBL",
             "ADR30000000000_14A00_VS20L_8.LBL", "ADR30000000000_14500_VS31L_8.LBL"]
    paths = [Path(n) for n in names]
    assert select_vs_adr(ds, paths).name == "ADR30000000000_14000_VS30L_8.LBL"  # nearest in time, same bin/filter
    assert select_vs_adr(ds, paths, {"1458F": "061C4"}).name == "ADR10000000000_061C4_VS30L_8.LBL"  # team pairing, v8
    tie = [Path("ADR30000000000_14000_VS30L_8.LBL"), Path("ADR30000000000_14B1E_VS30L_8.LBL")]
    assert select_vs_adr(ds, tie).name.startswith("ADR30000000000_14000")  # equally near: the earlier scan
    with pytest.raises(SidecarNotFoundError, match="VS23L"):
        select_vs_adr(ds.assign_attrs(wavelength_filter="3", pixel_averaging_width=5), paths)


def test_adr_of_another_binning_or_none_is_refused(trdr_dir: Path, corpus_copy: Path) -> None:
    ds = xr.open_dataset(trdr_dir / TRDR, engine="crism")
    with pytest.raises(ShapeMismatchError, match="binning"):
        ds.crism.atmospheric(adr=trdr_dir / "ADR10000000000_061C4_VS00L_8.LBL")
    bare = corpus_copy.parent / "bare"
    bare.mkdir()
    shutil.copy(CRISM / "trdr" / TRDR, bare / TRDR)
    shutil.copy(CRISM / "trdr" / TRDR.replace(".lbl", ".img"), bare / TRDR.replace(".lbl", ".img"))
    with pytest.raises(SidecarNotFoundError, match="adr_dirs"):
        xr.open_dataset(bare / TRDR, engine="crism").crism.atmospheric()


def test_photometric_divides_by_cos_incidence_from_the_ddr(corpus_copy: Path) -> None:
    rng = np.random.default_rng(5)
    ddr = rng.uniform(0, 80, (14, 15, 64)).astype(np.float32)
    write_cube(corpus_copy, DDR_TEMPLATE, "FRT0001458F_01_DE156L_DDR1", ddr, storage="BAND_SEQUENTIAL", band_names=DDR_NAMES)
    ds = xr.open_dataset(corpus_copy / TRDR, engine="crism", ddr="auto", chunks={})
    out = ds.crism.photometric()
    assert out.i_over_f.chunks is not None
    expected = ds.i_over_f.values / np.cos(np.deg2rad(ddr[0].astype(float)))[None]
    np.testing.assert_allclose(out.i_over_f.values, expected, rtol=1e-6)
    assert out.i_over_f.attrs["photometric_correction"] == "divided by cos(incidence_angle)"
    with pytest.raises(SidecarNotFoundError, match="ddr='auto'"):
        xr.open_dataset(corpus_copy / TRDR, engine="crism").crism.photometric()
