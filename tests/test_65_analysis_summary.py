"""Layer 6 analysis: CRISM summary parameters against an independent port of the CAT v2.0 definitions.

The port below is written from the CRISM team's IDL (``crism_summary_*.pro``, hyperspectral mode) and
JCAT, spectrum by spectrum with plain Python loops: its own band filter, sort, nearest-band lookup and
kernel median; it shares no code with :mod:`xarray_crism.analysis`. It is checked on the real corpus
TRDRs (IR and VNIR) and on generated cubes with known absorptions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import dask
import numpy as np
import pytest
import xarray as xr

import xarray_crism  # noqa: F401  (registers ds.crism)
from xarray_crism.analysis.parameters import MTRDR_SU_ORDER
from xarray_crism.errors import CrismError
from xarray_crism.testing import write_cube

from .conftest import CRISM

IR = CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl"
VNIR = sorted((CRISM / "trdr").glob("*s_trr3.lbl"))
KEEP = {"L": [(1044, 2658), (2796, 3900)], "S": [(433, 634), (707, 1013)]}


class Spectrum:
    """One pixel's spectrum, good bands only, sorted by wavelength (the port's own bookkeeping)."""

    def __init__(self, values: list[float], waves: list[float], lookup: dict[float, int]) -> None:
        pairs = sorted(zip(waves, values, strict=True))
        self.waves = [w for w, _ in pairs]
        self.values = [v for _, v in pairs]
        self.lookup = lookup  # target -> index, shared by the spectra of one cube (same wavelengths)

    def index(self, target: float) -> int:
        if target not in self.lookup:
            best = 0
            for i, w in enumerate(self.waves):
                if abs(w - target) < abs(self.waves[best] - target):
                    best = i
            self.lookup[target] = best
        return self.lookup[target]

    def W(self, target: float) -> float:
        return self.waves[self.index(target)]

    def R(self, target: float, k: int = 5) -> float:
        i, half = self.index(target), k // 2
        window = [v for v in self.values[max(0, i - half): min(len(self.values) - 1, i + half) + 1] if not math.isnan(v)]
        if not window:
            return math.nan
        window.sort()
        n = len(window)
        return window[n // 2] if n % 2 else (window[n // 2 - 1] + window[n // 2]) / 2


def bd(s: Spectrum, lo: float, kl: int, c: float, kc: int, hi: float, kh: int) -> float:
    a = (s.W(c) - s.W(lo)) / (s.W(hi) - s.W(lo))
    return 1 - s.R(c, kc) / ((1 - a) * s.R(lo, kl) + a * s.R(hi, kh))


def sh(s: Spectrum, lo: float, kl: int, c: float, kc: int, hi: float, kh: int) -> float:
    a = (s.W(c) - s.W(lo)) / (s.W(hi) - s.W(lo))
    return 1 - ((1 - a) * s.R(lo, kl) + a * s.R(hi, kh)) / s.R(c, kc)


def cont(s: Spectrum, w1: float, k1: int, w2: float, k2: int) -> Callable[[float], float]:
    slope = (s.R(w2, k2) - s.R(w1, k1)) / (s.W(w2) - s.W(w1))
    return lambda w: s.R(w1, k1) + slope * (s.W(w) - s.W(w1))


def olindex3(s: Spectrum) -> float:
    rc = cont(s, 1750, 7, 1862, 7)
    terms = [(1210, 0.1), (1250, 0.1), (1263, 0.2), (1276, 0.2), (1330, 0.4)]
    return sum(wt * (rc(w) - s.R(w, 7)) / abs(rc(w)) for w, wt in terms)


def lcpindex2(s: Spectrum) -> float:
    rc = cont(s, 1560, 7, 2450, 7)
    return sum(wt * (1 - s.R(w, 7) / rc(w)) for w, wt in [(1690, 0.2), (1750, 0.2), (1810, 0.3), (1870, 0.3)])


def hcpindex2(s: Spectrum) -> float:
    rc = cont(s, 1690, 7, 2530, 7)
    terms = [(2120, 5, 0.1), (2140, 7, 0.1), (2230, 7, 0.15), (2250, 7, 0.3), (2430, 7, 0.2), (2460, 7, 0.15)]
    return sum(wt * (1 - s.R(w, k) / rc(w)) for w, k, wt in terms)


def bd1900r2(s: Spectrum) -> float:
    rc = cont(s, 1815, 5, 2132, 5)
    top = sum(s.R(w, 1) / rc(w) for w in (1908, 1914, 1921, 1928, 1934, 1941))
    return 1 - top / sum(s.R(w, 1) / rc(w) for w in (1862, 1869, 1875, 2112, 2120, 2126))


def d2200(s: Spectrum) -> float:
    rc = cont(s, 1815, 7, 2430, 7)
    return 1 - (s.R(2210, 7) / rc(2210) + s.R(2230, 7) / rc(2230)) / (2 * s.R(2165, 5) / rc(2165))


def d2300(s: Spectrum) -> float:
    rc = cont(s, 1815, 5, 2530, 5)
    top = sum(s.R(w, 3) / rc(w) for w in (2290, 2320, 2330))
    return 1 - top / sum(s.R(w, 5) / rc(w) for w in (2120, 2170, 2210))


def icer2_2(s: Spectrum) -> float:
    rc = cont(s, 2456, 5, 2530, 5)
    return (rc(2600) - s.R(2600, 5)) / abs(rc(2600))


def var(s: Spectrum) -> float:
    w1, w2 = s.W(1014), s.W(2287)
    r1, r2 = s.R(1014, 1), s.R(2287, 1)
    total = 0.0
    for i in range(s.index(1021), s.index(2253) + 1):
        total += (r1 + (r2 - r1) / (w2 - w1) * (s.waves[i] - w1) - s.values[i]) ** 2
    return total


def bdi(s: Spectrum, start: float, stop: float) -> float:
    """CAT's integrated band depth below its BDI continuum (trapezoids, as the library documents)."""
    short = [s.values[i] for i in range(s.index(1330), s.index(1875) + 1)]
    long = [s.values[i] for i in range(s.index(2430), s.index(2600) + 1)]
    quartile = sorted(short)[int(len(short) * 0.75)]
    upper_median = sorted(long)[len(long) // 2]
    w_short = float(np.median(s.waves[s.index(1330): s.index(1875) + 1]))
    w_long = float(np.median(s.waves[s.index(2430): s.index(2600) + 1]))
    if any(math.isnan(v) for v in short + long):
        return math.nan
    slope = (upper_median - quartile) / (w_long - w_short)
    depths = [(s.waves[i], 1 - s.values[i] / (slope * (s.waves[i] - w_long) + upper_median))
              for i in range(s.index(start), s.index(stop) + 1)]
    return sum((d1 + d0) / 2 * (w1 - w0) / 1000 for (w0, d0), (w1, d1) in itertools.pairwise(depths))


def vnir_peak(s: Spectrum) -> tuple[float, float]:
    """CAT's mro_crism_vnir_peak: 5th-order fit, maximum on 2001 steps, local maximum if suspect."""
    first, last = s.index(433), s.index(1013)
    x, y = np.array(s.waves[first: last + 1]), np.array(s.values[first: last + 1])
    if np.isnan(y).any():
        return math.nan, math.nan
    fit = np.polyfit(x, y, 5)
    grid = np.linspace(x.min(), x.max(), 2001)
    model = np.polyval(fit, grid)
    best = int(np.argmax(model))
    if best == 2000 or grid[best] >= 900:
        d1, d2 = np.polyval(np.polyder(fit), grid), np.polyval(np.polyder(fit, 2), grid)
        for i in range(2000):
            if d1[i] > 0 >= d1[i + 1] and d2[i] < 0:
                best = i
                break
    return float(grid[best]), float(model[best])


def bdi1000vis(s: Spectrum) -> float:
    rho = vnir_peak(s)[1]
    points = [(s.waves[i] / 1000, 1 - s.values[i] / rho) for i in range(s.index(833), s.index(1023) + 1)]
    return sum((d0 + d1) / 2 * (w1 - w0) for (w0, d0), (w1, d1) in itertools.pairwise(points))


PORT: dict[str, Callable[[Spectrum], float]] = {
    "R770": lambda s: s.R(770), "RBR": lambda s: s.R(770) / s.R(440),
    "BD530_2": lambda s: bd(s, 440, 5, 530, 5, 614, 5), "SH600_2": lambda s: sh(s, 533, 5, 600, 5, 716, 3),
    "SH770": lambda s: sh(s, 716, 3, 775, 5, 860, 5), "BD640_2": lambda s: bd(s, 600, 5, 624, 3, 760, 5),
    "BD860_2": lambda s: bd(s, 755, 5, 860, 5, 977, 5), "BD920_2": lambda s: bd(s, 807, 5, 920, 5, 984, 5),
    "RPEAK1": lambda s: vnir_peak(s)[0] / 1000, "BDI1000VIS": bdi1000vis, "R440": lambda s: s.R(440),
    "IRR1": lambda s: s.R(800) / s.R(997), "R530": lambda s: s.R(530),
    "R600": lambda s: s.R(600),
    "R1330": lambda s: s.R(1330, 11), "BD1300": lambda s: bd(s, 1080, 5, 1320, 15, 1750, 5), "OLINDEX3": olindex3,
    "LCPINDEX2": lcpindex2, "HCPINDEX2": hcpindex2, "VAR": var,
    "BDI1000IR": lambda s: bdi(s, 1020, 1255), "BDI2000": lambda s: bdi(s, 1660, 2390),
    "ISLOPE1": lambda s: 1000 * (s.R(1815) - s.R(2530)) / (s.W(2530) - s.W(1815)),
    "BD1400": lambda s: bd(s, 1330, 5, 1395, 3, 1467, 5), "BD1435": lambda s: bd(s, 1370, 3, 1434, 1, 1470, 3),
    "BD1500_2": lambda s: bd(s, 1367, 5, 1525, 11, 1808, 5),
    "ICER1_2": lambda s: 1 - (1 - bd(s, 1370, 3, 1434, 1, 1470, 3)) / (1 - bd(s, 1367, 5, 1525, 11, 1808, 5)),
    "BD1750_2": lambda s: bd(s, 1690, 5, 1750, 3, 1815, 5), "BD1900_2": lambda s: bd(s, 1850, 5, 1930, 5, 2067, 5),
    "BD1900R2": bd1900r2, "BD2100_2": lambda s: bd(s, 1930, 3, 2132, 5, 2250, 3),
    "BD2165": lambda s: bd(s, 2120, 5, 2165, 3, 2230, 3), "BD2190": lambda s: bd(s, 2120, 5, 2185, 3, 2250, 3),
    "MIN2200": lambda s: min(bd(s, 2120, 5, 2165, 3, 2350, 5), bd(s, 2120, 5, 2210, 3, 2350, 5)),
    "BD2210_2": lambda s: bd(s, 2165, 5, 2210, 5, 2290, 5), "D2200": d2200,
    "BD2230": lambda s: bd(s, 2210, 3, 2235, 3, 2252, 3), "BD2250": lambda s: bd(s, 2120, 5, 2245, 7, 2340, 3),
    "MIN2250": lambda s: min(bd(s, 2165, 5, 2210, 3, 2350, 5), bd(s, 2165, 5, 2265, 3, 2350, 5)),
    "BD2265": lambda s: bd(s, 2210, 5, 2265, 3, 2340, 5), "BD2290": lambda s: bd(s, 2250, 5, 2290, 5, 2350, 5),
    "D2300": d2300, "BD2355": lambda s: bd(s, 2300, 5, 2355, 5, 2450, 5),
    "SINDEX2": lambda s: sh(s, 2120, 5, 2290, 7, 2400, 3), "ICER2_2": icer2_2,
    "MIN2295_2480": lambda s: min(bd(s, 2165, 5, 2295, 5, 2364, 5), bd(s, 2364, 5, 2480, 5, 2570, 5)),
    "MIN2345_2537": lambda s: min(bd(s, 2250, 5, 2345, 5, 2430, 5), bd(s, 2430, 5, 2537, 5, 2602, 5)),
    "BD2500_2": lambda s: bd(s, 2364, 5, 2480, 5, 2570, 5),
    "BD3000": lambda s: 1 - s.R(3000) / (s.R(2530) * (s.R(2530) / s.R(2210))),
    "BD3100": lambda s: bd(s, 3000, 5, 3120, 5, 3250, 5), "BD3200": lambda s: bd(s, 3250, 5, 3320, 5, 3390, 5),
    "BD3400_2": lambda s: bd(s, 3250, 10, 3420, 15, 3630, 10), "CINDEX2": lambda s: sh(s, 3450, 9, 3610, 11, 3875, 7),
    "BD2600": lambda s: bd(s, 2530, 5, 2600, 5, 2630, 5), "IRR2": lambda s: s.R(2530) / s.R(2210),
    "IRR3": lambda s: s.R(3500, 7) / s.R(3390, 7), "R1080": lambda s: s.R(1080), "R1506": lambda s: s.R(1506),
    "R2529": lambda s: s.R(2529), "R3920": lambda s: s.R(3920),
}
VNIR_NAMES = ["R770", "RBR", "BD530_2", "SH600_2", "SH770", "BD640_2", "BD860_2", "BD920_2", "RPEAK1", "BDI1000VIS", "R440",
              "IRR1", "R530", "R600"]
IR_NAMES = [n for n in PORT if n not in VNIR_NAMES]


def port(cube: np.ndarray, waves: np.ndarray, sensor: str, names: list[str]) -> dict[str, np.ndarray]:
    """The port over every pixel of ``cube`` ``(band, line, sample)``: the good bands by its own filter."""
    good = [b for b, w in enumerate(waves) if any(lo <= w <= hi for lo, hi in KEEP[sensor])]
    out = {n: np.full(cube.shape[1:], np.nan) for n in names}
    lookup: dict[float, int] = {}
    for line in range(cube.shape[1]):
        for sample in range(cube.shape[2]):
            s = Spectrum([float(cube[b, line, sample]) for b in good], [float(waves[b]) for b in good], lookup)
            for n in names:
                with np.errstate(all="ignore"):
                    try:
                        out[n][line, sample] = PORT[n](s)
                    except ZeroDivisionError:
                        out[n][line, sample] = math.nan
    return out


#: Tolerances: the polynomial peak may land one model step (~0.3 nm) away between two fits.
TOLERANCE = {"RPEAK1": {"rtol": 0, "atol": 4e-4}, "BDI1000VIS": {"rtol": 1e-3, "atol": 2e-5}}


def _check(ds: xr.Dataset, expected: dict[str, np.ndarray], names: list[str]) -> None:
    assert sorted(n.upper() for n in ds.data_vars) == sorted(names)
    for n in names:
        got = ds[n.lower()].values.astype(float)
        tolerance = TOLERANCE.get(n, {"rtol": 2e-5, "atol": 2e-6})
        np.testing.assert_allclose(got, expected[n].astype(np.float32), equal_nan=True, err_msg=n, **tolerance)


def test_ir_trdr_summary_matches_the_port_lazily() -> None:
    ds = xr.open_dataset(IR, engine="crism", chunks={}).chunk({"line": 8})
    result = ds.crism.summary()
    assert list(result.data_vars)[:3] == ["bdi1000ir", "r1330", "olindex3"]  # the MTRDR SU order
    assert all(v.chunks is not None for v in result.data_vars.values())  # lazy until computed
    with dask.config.set(scheduler="synchronous"):
        computed = result.compute()
    raw = ds.i_over_f.values
    assert np.isfinite(raw).sum() > 0.8 * raw.size  # the real scene, not masked away
    _check(computed, port(raw, ds.wavelength.values, "L", IR_NAMES), IR_NAMES)
    assert computed.bd1900_2.attrs["kernel_widths"] == [5, 5, 5]
    assert "Viviano-Beck" in computed.olindex3.attrs["references"] and "summary" in computed.attrs["history"]


@pytest.mark.parametrize("label", VNIR, ids=lambda p: p.stem)
def test_vnir_trdr_summary_matches_the_port(label: Path) -> None:
    ds = xr.open_dataset(label, engine="crism")
    _check(ds.crism.summary(), port(ds.i_over_f.values, ds.wavelength.values, "S", VNIR_NAMES), VNIR_NAMES)


def _generated(tmp_path: Path, spectra: Callable[[np.ndarray], np.ndarray]) -> xr.Dataset:
    """A cube written with the IR TRDR's label and detector rows (so its wavelengths), values ``spectra(w)``."""
    real = xr.open_dataset(IR, engine="crism")
    waves = real.wavelength.values
    data = spectra(np.nan_to_num(waves, nan=0.0)).astype(np.float32)
    write_cube(tmp_path, IR, "FRT0001458F_01_IF156L_TRR3", data, detector_rows=real.detector_row.values)
    return xr.open_dataset(tmp_path / "frt0001458f_01_if156l_trr3.lbl", engine="crism", chunks={})


def test_linear_spectra_have_zero_band_depths_and_indices(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    offset, slope = rng.uniform(0.1, 0.4, (1, 6, 5)), rng.uniform(-5e-5, 5e-5, (1, 6, 5))
    ds = _generated(tmp_path, lambda w: offset + slope * (w[:, None, None] - 2000.0))
    not_depths = ("ISLOPE1", "IRR2", "IRR3", "R1330", "R1080", "R1506", "R2529", "R3920", "BD3000", "BDI1000IR", "BDI2000")
    names = [n for n in IR_NAMES if n not in not_depths]
    assert "VAR" in names  # a line has no variance about itself
    result = ds.crism.summary(names).compute()
    for n in names:
        np.testing.assert_allclose(result[n.lower()].values, 0.0, atol=1e-5, err_msg=n)
    islope = ds.crism.summary("ISLOPE1").islope1.values
    np.testing.assert_allclose(islope, -1000 * slope[0], rtol=1e-4)


def test_a_box_absorption_has_its_depth(tmp_path: Path) -> None:
    depth = np.linspace(0.05, 0.4, 6)[None, :, None] * np.ones((1, 6, 4))

    def spectra(w: np.ndarray) -> np.ndarray:
        continuum = 0.3 + 2e-5 * (w[:, None, None] - 2000.0)
        inside = ((w > 1890) & (w < 1970))[:, None, None]
        return continuum * np.where(inside, 1 - depth, 1.0)

    result = _generated(tmp_path, spectra).crism.summary(["BD1900_2", "BD2290"]).compute()
    np.testing.assert_allclose(result.bd1900_2.values, depth[0], rtol=1e-5)
    np.testing.assert_allclose(result.bd2290.values, 0.0, atol=1e-6)


def test_bad_bands_good_bands_and_spectral_order() -> None:
    ds = xr.open_dataset(IR, engine="crism")
    waves = ds.wavelength.values
    mask = ds.crism.bad_bands().values
    expected = [not (np.isfinite(w) and (1044 <= w <= 2658 or 2796 <= w <= 3900)) for w in waves]
    assert mask.tolist() == expected and mask[0]  # the NaN-wavelength row first
    good = ds.crism.good_bands()
    assert good.sizes["band"] == len(waves) - sum(expected)
    ordered = good.crism.spectral_order()
    assert np.all(np.diff(ordered.wavelength.values) > 0) and waves[1] > waves[-1]  # IR stored long to short
    shortest = int(np.nanargmin(np.where(expected, np.nan, waves)))
    np.testing.assert_array_equal(ordered.i_over_f.isel(band=0).values, ds.i_over_f.isel(band=shortest).values)
    vnir = xr.open_dataset(VNIR[0], engine="crism")
    kept = vnir.wavelength.values[~vnir.crism.bad_bands().values]
    assert kept.min() >= 433 and kept.max() <= 1013 and not ((kept > 634) & (kept < 707)).any()
    assert not ds.crism.bad_bands(policy="none").values[1:].any()


def test_unknown_or_uncovered_parameters_are_refused() -> None:
    ds = xr.open_dataset(VNIR[0], engine="crism")
    with pytest.raises(CrismError, match="BD1900_2"):
        ds.crism.summary("BD1900_2")
    with pytest.raises(CrismError, match="NOPE"):
        ds.crism.summary("NOPE")
    with pytest.raises(CrismError, match="policy"):
        ds.crism.bad_bands(policy="strict")


def test_a_joined_cube_has_all_60_mtrdr_su_parameters() -> None:
    vnir = xr.open_dataset(CRISM / "trdr" / "frt0001458f_01_if156s_trr3.lbl", engine="crism")
    ir = xr.open_dataset(IR, engine="crism")  # the same observation's IR cube
    joined = xr.concat([vnir.i_over_f, ir.i_over_f], dim="band").to_dataset().assign_attrs(sensor="J")
    sensor = ["S"] * vnir.sizes["band"] + ["L"] * ir.sizes["band"]
    joined = joined.assign_coords(band=np.arange(joined.sizes["band"]), sensor=("band", sensor))
    apart = vnir.crism.bad_bands().values.tolist() + ir.crism.bad_bands().values.tolist()
    assert joined.crism.bad_bands().values.tolist() == apart  # each band by its own sensor's ranges
    result = joined.crism.summary()
    assert [n.upper() for n in result.data_vars] == list(MTRDR_SU_ORDER) and len(MTRDR_SU_ORDER) == 60
    for name, alone in [("bd1900_2", ir), ("olindex3", ir), ("d2300", ir), ("r770", vnir), ("rpeak1", vnir)]:
        np.testing.assert_array_equal(result[name].values, alone.crism.summary(name.upper())[name].values)
