"""``mask_and_scale`` by the reader equals xarray's CF decoding, bit for bit, for every read path."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xarray_crism.formats.layouts import STORAGE_ORDERS, ArrayLayout
from xarray_crism.io.sources import open_source
from xarray_crism.model.decoding import DecodedArray, Decoding
from xarray_crism.model.reader import read_array
from xarray_crism.testing import write_cube
from xarray_crism.xr.dataset import open_crism_dataset

from .conftest import CORPUS, CRISM, TRDRS

PRODUCTS = [
    *TRDRS, *sorted((CRISM / "cdr").glob("*WA*.LBL")), *sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG")),
]
KEYS: list[dict[str, Any]] = [
    {}, {"band": 3}, {"line": 5, "sample": 7}, {"line": slice(2, 9), "sample": slice(1, 30, 3)},
    {"band": [0, 2, 1]}, {"sample": [9, 0, 4, 4]},
]


def _fit(k: Any, size: int) -> Any:
    return k if isinstance(k, slice) else np.asarray(k) % size


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"u{a.itemsize}") if a.dtype.kind == "f" else a


def _reference(path: Path) -> xr.Dataset:
    return xr.decode_cf(open_crism_dataset(path), decode_times=False, decode_coords=False)


def _assert_same_variable(ref: xr.Variable, got: xr.Variable) -> None:
    assert got.dtype == ref.dtype
    assert got.attrs.keys() == ref.attrs.keys()
    ref_encoding = {k: v for k, v in ref.encoding.items() if k != "missing_value"}  # listed in attrs once decoded
    assert got.encoding.keys() == ref_encoding.keys()
    for k, v in ref_encoding.items():
        np.testing.assert_array_equal(got.encoding[k], v)
    np.testing.assert_array_equal(_bits(got.values), _bits(ref.values))


@pytest.mark.parametrize("path", PRODUCTS, ids=lambda p: p.name)
def test_default_open_equals_xarray_cf_decoding(path: Path) -> None:
    ref = _reference(path)
    with xr.open_dataset(path, engine="crism") as ds:
        decoded_by_reader = [k for k, v in ds.variables.items() if isinstance(_model(v), DecodedArray)]
        assert decoded_by_reader, "no variable is decoded by the reader"
        assert any(np.isnan(ds[k].values).any() for k in decoded_by_reader)  # the corpus holds masked constants
        for name in ref.variables:
            _assert_same_variable(ref[name].variable, ds[name].variable)
            for key in KEYS:
                sel = {d: _fit(k, ref.sizes[d]) for d, k in key.items() if d in ref[name].dims}
                if sel:
                    np.testing.assert_array_equal(_bits(ds[name].isel(sel).values), _bits(ref[name].isel(sel).values))


@pytest.mark.filterwarnings("ignore:The specified chunks separate")
@pytest.mark.parametrize("path", [TRDRS[0], sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))[0]], ids=lambda p: p.name)
def test_dask_chunks_are_decoded_by_the_reader(path: Path) -> None:
    ref = _reference(path)
    with xr.open_dataset(path, engine="crism", chunks={"line": 4}) as ds:
        for name in ds.data_vars:
            assert ds[name].chunks is not None
            np.testing.assert_array_equal(_bits(ds[name].values), _bits(ref[name].values))


def test_masked_full_read_allocates_one_cube(tmp_path: Path) -> None:
    """In place: the masked read of a float32 cube needs the cube and a few blocks, not 2.25 cubes."""
    data = np.random.default_rng(1).random((60, 100, 120), dtype=np.float32)
    data[5, 10:20, 3] = 65535.0
    product = write_cube(tmp_path, CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl", "FRT0001458F_01_IF156L_TRR3", data)
    with xr.open_dataset(product.label, engine="crism") as ds:
        var = ds.i_over_f
        tracemalloc.start()
        values = var.values
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert np.isnan(values[5, 10:20, 3]).all() and np.isnan(values).sum() == 10
    np.testing.assert_array_equal(values[~np.isnan(values)], data[data != 65535.0])
    assert peak < data.nbytes * 1.1


def _model(var: xr.Variable) -> Any:
    """The model array under xarray's wrappers (copy-on-write, cache, lazy indexing, backend array)."""
    data: Any = var._data
    while hasattr(data, "array") and not isinstance(data, DecodedArray):
        data = data.array
    return data


DTYPES = [("<f4", None), (">f4", None), ("<f8", None), (">i2", 0.5), ("<i2", 2.0), (">u2", 0.25), ("<f4", 3.0)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, ...]:
    order = draw(st.sampled_from(sorted(STORAGE_ORDERS)))
    dtype, scale = draw(st.sampled_from(DTYPES))
    big = draw(st.booleans())
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 40 if big else 6)), draw(st.integers(1, 700 if big else 6)))
    offset = draw(st.integers(0, 12)) * 4
    key = tuple(draw(st.one_of(st.just(slice(None)), st.integers(0, n - 1), st.slices(n),
                               hnp.arrays(np.int64, st.integers(1, 3), elements=st.integers(0, n - 1)))) for n in shape)
    fraction = draw(st.sampled_from([0.0, 0.001, 0.3]))
    return order, dtype, scale, shape, offset, key, fraction


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_reader_decoding_matches_numpy(tmp_path: Path, case: tuple[Any, ...]) -> None:
    """Masking and scaling by blocks (several blocks, constants in some) equals xarray's formula on the selection."""
    order, dtype, scale, shape, offset, key, fraction = case
    rng = np.random.default_rng(len(str(case)))
    canonical = (rng.random(shape) * 1000).astype(dtype)
    canonical[rng.random(shape) < fraction] = 7
    canonical[rng.random(shape) < fraction] = 9
    dims = STORAGE_ORDERS[order]
    stored = canonical.transpose([("band", "line", "sample").index(d) for d in dims])
    path = tmp_path / "cube.img"
    path.write_bytes(b"\x07" * offset + stored.tobytes())
    layout = ArrayLayout("cube.img", offset, np.dtype(dtype), dims, stored.shape, ("band", "line", "sample"))
    out = np.dtype(np.float64) if scale is not None else np.dtype(dtype).newbyteorder("=")
    decoding = Decoding((7, 9), scale, None if scale is None else -1.5, out)
    got = read_array(open_source(path, None), layout, key, decoding)
    expected = canonical.astype(out)
    expected[(canonical == 7) | (canonical == 9)] = np.nan
    if scale is not None:
        expected = expected * np.float64(scale) + np.float64(-1.5)
    for axis in reversed(range(3)):
        expected = expected[(slice(None),) * axis + (key[axis],)]
    assert got.dtype == out and got.shape == expected.shape
    np.testing.assert_array_equal(_bits(got), _bits(np.ascontiguousarray(expected)))


def test_one_value_is_decoded(tmp_path: Path) -> None:
    """Every index an integer: the reader's numpy scalar is decoded too (a regression hypothesis found)."""
    path = tmp_path / "cube.img"
    path.write_bytes(np.array([7, 1, 2], dtype="<f4").tobytes())
    layout = ArrayLayout("cube.img", 0, np.dtype("<f4"), ("band", "line", "sample"), (1, 1, 3), ("band", "line", "sample"))
    decoding = Decoding((7,), None, None, np.dtype(np.float32))
    assert np.isnan(read_array(open_source(path, None), layout, (0, 0, 0), decoding))
    assert read_array(open_source(path, None), layout, (0, 0, 2), decoding) == np.float32(2)
