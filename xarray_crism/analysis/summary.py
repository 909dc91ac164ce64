"""CRISM summary parameters on a lazy cube: one pass over the cube computes every parameter asked for.

``summary(ds)`` takes the good bands (:func:`.bands.good_bands`) by increasing wavelength (as indices
into the stored bands: nothing is copied), keeps the band axis in one chunk and maps :func:`compute_block`
over the spatial chunks with dask: each block reads its spectra once and returns ``(parameter, line,
sample)``. ``R(w, k)`` is the median over the ``k``-band kernel ``[i - k // 2, i + k // 2]`` around the
band ``i`` nearest ``w``, clamped at the cube's ends, NaN ignored, an even count averaged (CAT's
``crism_sumutil_single /hyper``; a width of 10 spans 11 bands there too). Medians are taken on the stored
float32 values, the parameters computed from them in float64 and returned as float32, as in MTRDR SU
products.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from ..errors import LabelValueError
from .bands import bad_bands, nearest_band, sensor_of, wavelengths_of
from .parameters import MTRDR_SU_ORDER, PARAMETERS, Parameter
from .provenance import with_provenance

__all__ = [
    "COVERAGE_MARGIN_NM", "FORMS", "Reflectance", "available_parameters", "compute_block", "good_band_order", "nan_median",
    "summary",
]

#: A parameter is computable when each of its wavelengths is within this margin of the cube's good bands
#: (R3920 reads the last IR band kept, at ~3900 nm; VAR's 1014 nm anchor the first, at ~1047 nm).
COVERAGE_MARGIN_NM = 35.0


class Reflectance:
    """``R(w, k)`` of one block ``(band, ...)`` whose bands ``order`` (default all) are in wavelength order.

    ``wavelengths`` are those of the ordered bands; the block is read in place (a reversed or forward run
    of bands is a view, so an IR cube stored long to short is never copied whole).
    """

    def __init__(self, cube: np.ndarray, wavelengths: np.ndarray, order: np.ndarray | None = None) -> None:
        self.cube = np.asarray(cube, dtype=np.float32)  # medians select stored values: sorting float32 is exact
        self.wavelengths = wavelengths
        self.order = np.arange(len(wavelengths)) if order is None else np.asarray(order)
        self.shape = self.cube.shape[1:]
        self._cache: dict[tuple[float, int], np.ndarray] = {}
        self.extras: dict[tuple[float, int], Any] = {}  # intermediate results shared by parameters

    def rows(self, span: slice) -> np.ndarray:
        """The block's bands at ordered positions ``span`` (a view when they are a run of stored bands)."""
        index = self.order[span]
        step = int(index[1] - index[0]) if len(index) > 1 else 1
        if step in (1, -1) and np.all(np.diff(index) == step):
            stop = int(index[-1]) + step
            return self.cube[int(index[0]) : stop if stop >= 0 else None : step]
        return self.cube[index]

    def wave(self, target: float) -> float:
        """The wavelength of the band nearest ``target``."""
        return float(self.wavelengths[nearest_band(self.wavelengths, target)])

    def __call__(self, target: float, width: int) -> np.ndarray:
        key = (target, width)
        if key not in self._cache:
            self._cache[key] = self._median(nearest_band(self.wavelengths, target), width)
        return self._cache[key]

    def _median(self, index: int, width: int) -> np.ndarray:
        half = width // 2
        low, high = max(index - half, 0), min(index + half, len(self.wavelengths) - 1)
        if low == high:
            return np.asarray(self.cube[self.order[index]], dtype=np.float64)
        return nan_median(self.rows(slice(low, high + 1)))


def nan_median(window: np.ndarray) -> np.ndarray:
    """Median along axis 0 ignoring NaN, the two middle values averaged for an even count (NaN if none).

    Kernels of up to ``NETWORK_MAX`` bands are sorted by a compare-exchange network of element-wise
    minima and maxima (fast on whole images); pixels with a NaN in the kernel, and longer kernels, are
    sorted with ``numpy.sort``, which puts NaN last, so the ``n`` valid values come first. Same values as
    ``numpy.nanmedian``.
    """
    if window.shape[0] > NETWORK_MAX:
        return _sorted_median(window)
    rows = _network_sort(list(window))
    n = len(rows)
    median: np.ndarray = (rows[(n - 1) // 2].astype(np.float64) + rows[n // 2]) / 2.0
    gaps = np.isnan(window).any(axis=0)
    if gaps.any():
        median[gaps] = _sorted_median(window[:, gaps])
    return median


#: Longest kernel sorted by the compare-exchange network (n (n - 1) / 2 exchanges).
NETWORK_MAX = 7


def _network_sort(rows: list[np.ndarray]) -> list[np.ndarray]:
    """Odd-even transposition sort of equal-shape arrays, element-wise (NaN-free input)."""
    for step in range(len(rows)):
        for i in range(step % 2, len(rows) - 1, 2):
            rows[i], rows[i + 1] = np.minimum(rows[i], rows[i + 1]), np.maximum(rows[i], rows[i + 1])
    return rows


def _sorted_median(window: np.ndarray) -> np.ndarray:
    ordered = np.sort(window, axis=0)
    count = np.count_nonzero(~np.isnan(window), axis=0)
    low = np.take_along_axis(ordered, (np.maximum(count - 1, 0) // 2)[None], axis=0)[0]
    high = np.take_along_axis(ordered, (count // 2 - (count == 0))[None], axis=0)[0]
    return np.where(count > 0, (low.astype(np.float64) + high) / 2.0, np.nan)


def _depth(r: Reflectance, bands: Sequence[tuple[float, int]], inverted: bool = False) -> np.ndarray:
    (ws, ks), (wc, kc), (wl, kl) = bands
    a = (r.wave(wc) - r.wave(ws)) / (r.wave(wl) - r.wave(ws))
    continuum = (1.0 - a) * r(ws, ks) + a * r(wl, kl)
    return np.asarray(1.0 - (continuum / r(wc, kc) if inverted else r(wc, kc) / continuum))


def _continuum(r: Reflectance, p: Parameter, target: float) -> np.ndarray:
    (w1, k1), (w2, k2) = p.anchors
    slope = (r(w2, k2) - r(w1, k1)) / (r.wave(w2) - r.wave(w1))
    return np.asarray(r(w1, k1) + slope * (r.wave(target) - r.wave(w1)))


def _continuum_index(r: Reflectance, p: Parameter) -> np.ndarray:
    total = np.zeros(r.shape)
    for (w, k), weight in zip(p.bands, p.weights, strict=True):
        rc = _continuum(r, p, w)
        total = total + weight * (rc - r(w, k)) / (np.abs(rc) if p.abs_continuum else rc)
    return total


def _continuum_ratio(r: Reflectance, p: Parameter) -> np.ndarray:
    top, bottom = np.zeros(r.shape), np.zeros(r.shape)
    for (w, k), weight in zip(p.bands, p.weights, strict=True):
        term = abs(weight) * r(w, k) / _continuum(r, p, w)
        top, bottom = (top + term, bottom) if weight > 0 else (top, bottom + term)
    return 1.0 - top / bottom


def _bd3000(r: Reflectance, p: Parameter) -> np.ndarray:
    (w1, k1), (w2, k2), (w3, k3) = p.bands
    return np.asarray(1.0 - r(w3, k3) / (r(w2, k2) * (r(w2, k2) / r(w1, k1))))


def _variance(r: Reflectance, p: Parameter) -> np.ndarray:
    (w1, k1), (w2, k2) = p.anchors
    first, last = sorted(nearest_band(r.wavelengths, w) for w, _ in p.bands)
    waves = r.wavelengths[first : last + 1].reshape((-1,) + (1,) * len(r.shape))
    slope = (r(w2, k2) - r(w1, k1)) / (r.wave(w2) - r.wave(w1))
    predicted = r(w1, k1) + slope * (waves - r.wave(w1))
    return np.asarray(np.sum((predicted - r.rows(slice(first, last + 1))) ** 2, axis=0))


def _span(r: Reflectance, w1: float, w2: float) -> slice:
    first, last = sorted((nearest_band(r.wavelengths, w1), nearest_band(r.wavelengths, w2)))
    return slice(first, last + 1)


def _bdi_continuum(r: Reflectance, p: Parameter) -> tuple[np.ndarray, float, np.ndarray, float]:
    """CAT's ``crism_sumutil_bdicont``: (upper quartile, its wavelength, median, its wavelength), cached."""
    key = (-1.0, hash(p.anchors))
    if key not in r.extras:
        (a1, _), (a2, _), (b1, _), (b2, _) = p.anchors
        short, long = r.rows(_span(r, a1, a2)), r.rows(_span(r, b1, b2))
        gaps = np.isnan(short).any(axis=0) | np.isnan(long).any(axis=0)  # NaN where either span has one
        r.extras[key] = (
            np.where(gaps, np.nan, _rank(short, int(short.shape[0] * 0.75))),
            float(np.median(r.wavelengths[_span(r, a1, a2)])),
            np.where(gaps, np.nan, _rank(long, long.shape[0] // 2)),
            float(np.median(r.wavelengths[_span(r, b1, b2)])),
        )
    return r.extras[key]  # type: ignore[no-any-return]


def _rank(values: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th smallest value along axis 0 (0-based), as float64."""
    return np.asarray(np.partition(values, k, axis=0)[k], dtype=np.float64)


def _integrated_band_depth(r: Reflectance, p: Parameter) -> np.ndarray:
    quartile, w_short, median, w_long = _bdi_continuum(r, p)
    slope = (median - quartile) / (w_long - w_short)
    span = _span(r, p.bands[0][0], p.bands[1][0])
    waves = r.wavelengths[span].reshape((-1,) + (1,) * len(r.shape))
    depth = 1.0 - r.rows(span) / (slope * (waves - w_long) + median)
    return np.asarray(np.sum((depth[1:] + depth[:-1]) / 2.0 * np.diff(waves / 1000.0, axis=0), axis=0))


#: RPEAK1: polynomial order, model samples, and the wavelength (nm) from which the maximum is suspect.
PEAK_ORDER, PEAK_STEPS, PEAK_PANIC_NM = 5, 2001, 900.0


def _vnir_peak(r: Reflectance, p: Parameter) -> tuple[np.ndarray, np.ndarray]:
    """(peak wavelength nm, peak reflectance) per pixel of the fit over the bands in ``p.bands``' range."""
    span = _span(r, p.bands[0][0], p.bands[1][0])
    waves = r.wavelengths[span]
    spectra = r.rows(span).reshape(len(waves), -1).astype(np.float64)
    centre, scale = waves.mean(), np.ptp(waves) / 2.0
    coefficients = np.polynomial.polynomial.polyfit((waves - centre) / scale, np.nan_to_num(spectra), PEAK_ORDER)
    grid = np.linspace(waves.min(), waves.max(), PEAK_STEPS)
    x = (grid - centre) / scale
    wave, rho = np.empty(spectra.shape[1]), np.empty(spectra.shape[1])
    for start in range(0, spectra.shape[1], 2048):
        part = coefficients[:, start : start + 2048]
        wave[start : start + 2048], rho[start : start + 2048] = _peak(x, grid, part)
    gaps = np.isnan(spectra).any(axis=0)
    shape = r.shape
    return np.where(gaps, np.nan, wave).reshape(shape), np.where(gaps, np.nan, rho).reshape(shape)


def _peak(x: np.ndarray, grid: np.ndarray, coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    poly = np.polynomial.polynomial
    model = poly.polyval(x, coefficients)  # (pixels, steps)
    best = np.argmax(model, axis=1)
    slope = np.sign(poly.polyval(x, poly.polyder(coefficients)))
    curvature = poly.polyval(x, poly.polyder(coefficients, 2))
    local = (slope[:, :-1] > 0) & (slope[:, 1:] <= 0) & (curvature[:, :-1] < 0)
    first = np.where(local.any(axis=1), np.argmax(local, axis=1), best)
    suspect = (best == len(grid) - 1) | (grid[best] >= PEAK_PANIC_NM)
    chosen = np.where(suspect, first, best)
    return grid[chosen], np.take_along_axis(model, chosen[:, None], axis=1)[:, 0]


def _peak_integrated_band_depth(r: Reflectance, p: Parameter) -> np.ndarray:
    _, rho = _vnir_peak(r, PARAMETERS["RPEAK1"])
    span = _span(r, p.bands[0][0], p.bands[1][0])
    waves = r.wavelengths[span].reshape((-1,) + (1,) * len(r.shape)) / 1000.0
    depth = 1.0 - r.rows(span) / rho
    return np.asarray(np.sum((depth[1:] + depth[:-1]) / 2.0 * np.diff(waves, axis=0), axis=0))


Form = Callable[[Reflectance, Parameter], np.ndarray]

#: Form name -> computation (see :mod:`.parameters`); ``depth_ratio`` is resolved in :func:`compute_block`.
FORMS: dict[str, Form] = {
    "single": lambda r, p: r(*p.bands[0]),
    "ratio": lambda r, p: r(*p.bands[0]) / r(*p.bands[1]),
    "band_depth": lambda r, p: _depth(r, p.bands),
    "shoulder": lambda r, p: _depth(r, p.bands, inverted=True),
    "min_band_depth": lambda r, p: np.fmin(_depth(r, p.bands[:3]), _depth(r, p.bands[3:])),
    "slope": lambda r, p: 1000.0 * (r(*p.bands[0]) - r(*p.bands[1])) / (r.wave(p.bands[1][0]) - r.wave(p.bands[0][0])),
    "continuum_index": _continuum_index,
    "continuum_ratio": _continuum_ratio,
    "bd3000": _bd3000,
    "variance": _variance,
    "integrated_band_depth": _integrated_band_depth,
    "vnir_peak": lambda r, p: _vnir_peak(r, p)[0] / 1000.0,
    "peak_integrated_band_depth": _peak_integrated_band_depth,
}


def _value(r: Reflectance, name: str) -> np.ndarray:
    p = PARAMETERS[name]
    if p.form == "depth_ratio":
        first, second = (_value(r, n) for n in p.uses)
        return 1.0 - (1.0 - first) / (1.0 - second)
    return FORMS[p.form](r, p)


def compute_block(
    cube: np.ndarray, wavelengths: np.ndarray, names: Sequence[str], order: np.ndarray | None = None
) -> np.ndarray:
    """Parameters ``names`` of a block ``(band, ...)``, its bands ``order`` in wavelength order: ``(parameter, ...)``."""
    r = Reflectance(cube, wavelengths, order)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([_value(r, n) for n in names]).astype(np.float32)


def _wavelengths_needed(name: str) -> list[float]:
    p = PARAMETERS[name]
    own = [w for w, _ in p.bands + p.anchors]
    return own + [w for used in p.uses for w in _wavelengths_needed(used)]


def available_parameters(wavelengths: np.ndarray) -> list[str]:
    """The parameters (MTRDR SU order) whose wavelengths a cube of good bands ``wavelengths`` covers."""
    finite = wavelengths[np.isfinite(wavelengths)]
    if not finite.size:
        return []
    low, high = finite.min() - COVERAGE_MARGIN_NM, finite.max() + COVERAGE_MARGIN_NM
    return [n for n in MTRDR_SU_ORDER if all(low <= w <= high for w in _wavelengths_needed(n))]


def summary(
    ds: xr.Dataset, params: Sequence[str] | str | None = None, *, variable: str | None = None, policy: str = "jcat"
) -> xr.Dataset:
    """Summary parameters of a CRISM cube, one ``(line, sample)`` variable each, named in lower case.

    ``params=None`` computes every parameter the cube's good bands cover (VNIR ones on an S cube, IR
    ones on an L cube, all on a joined one), in the order of an MTRDR SU product. Lazy when ``ds`` is
    dask-backed: the band axis is one chunk, and all parameters come from one pass over the cube.
    """
    name = cube_variable(ds, variable)
    order = good_band_order(ds, policy)
    wavelengths = wavelengths_of(ds)[order]
    names = _resolve(ds, params, wavelengths)
    data = ds[name].transpose("band", ...)
    stacked = _compute(data.data, wavelengths, names, order)
    spatial = data.dims[1:]
    coords = {k: v for k, v in data.coords.items() if "band" not in v.dims}
    out = xr.Dataset(
        {n.lower(): xr.Variable(spatial, stacked[i], attrs=_attributes(n, wavelengths)) for i, n in enumerate(names)},
        coords=coords, attrs={k: v for k, v in ds.attrs.items() if k != "pds_label"},
    )
    return with_provenance(out, "summary", params=names, variable=name, policy=policy, sensor=sensor_of(ds))


def good_band_order(ds: xr.Dataset, policy: str) -> np.ndarray:
    """Indices along ``band`` of the good bands by increasing wavelength (``good_bands`` then ``spectral_order``)."""
    order = np.argsort(wavelengths_of(ds), kind="stable")
    return np.asarray(order[~bad_bands(ds, policy).values[order]])


def cube_variable(ds: xr.Dataset, variable: str | None) -> str:
    """The spectral variable: ``variable``, else the one data variable along ``band``."""
    candidates = [n for n, v in ds.data_vars.items() if "band" in v.dims and v.ndim == 3]
    if variable is None and len(candidates) == 1:
        return str(candidates[0])
    if variable is not None and variable in candidates:
        return variable
    raise LabelValueError(
        str(ds.attrs.get("product_id", "<dataset>")), "variable", variable,
        f"one of the cube variables {candidates}", "pass variable='i_over_f' (or the cube's name)",
    )


def _resolve(ds: xr.Dataset, params: Sequence[str] | str | None, wavelengths: np.ndarray) -> list[str]:
    available = available_parameters(wavelengths)
    if params is None:
        return available
    wanted = [params] if isinstance(params, str) else list(params)
    for p in wanted:
        if p.upper() not in available:
            reason = "a parameter whose wavelengths the cube covers" if p.upper() in PARAMETERS else "a known parameter"
            raise LabelValueError(
                str(ds.attrs.get("product_id", "<dataset>")), "params", p, f"one of {available}",
                f"{p.upper()}: {reason}",
            )
    return [p.upper() for p in wanted]


def _compute(data: Any, wavelengths: np.ndarray, names: list[str], order: np.ndarray) -> Any:
    if not isinstance(data, da.Array):
        return compute_block(np.asarray(data), wavelengths, names, order)
    cube = data.rechunk({0: -1})  # type: ignore[no-untyped-call]
    return cube.map_blocks(
        compute_block, wavelengths, names, order, dtype=np.float32, chunks=((len(names),), *cube.chunks[1:]),
        name="crism-summary",
    )


def _attributes(name: str, wavelengths: np.ndarray) -> dict[str, object]:
    p = PARAMETERS[name]
    used = [float(wavelengths[nearest_band(wavelengths, w)]) for w, _ in p.bands + p.anchors]
    attrs: dict[str, object] = {
        "long_name": p.description, "summary_parameter": name, "form": p.form,
        "wavelengths_nm": [w for w, _ in p.bands], "kernel_widths": [k for _, k in p.bands],
        "band_wavelengths_nm": used, "units": "1",
        "references": "Viviano-Beck et al. (2014) JGR Planets 119, 1403-1431, doi:10.1002/2014JE004627; "
                      f"CRISM CAT v2.0 crism_summary_{name.lower()}.pro",
    }
    for key, value in (("weights", list(p.weights)), ("continuum_nm", [w for w, _ in p.anchors]),
                       ("continuum_kernel_widths", [k for _, k in p.anchors]), ("uses", list(p.uses)),
                       ("note", p.note)):
        if value:
            attrs[key] = value
    return attrs
