"""Local strided reads, by rows or through a read-only map (:mod:`xarray_crism.model.local_reads`): the same values as
GDAL on real TRDRs, as the byte-range path (the one remote files take) and as NumPy's indexing,
raw and masked/scaled, for bands, windows, stepped and negative slices, lists and single values."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

import fsspec
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import rasterio
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xarray_crism.errors import FileChangedError, TruncatedFileError
from xarray_crism.formats.layouts import STORAGE_ORDERS, ArrayLayout
from xarray_crism.io.sources import open_source
from xarray_crism.model import local_reads
from xarray_crism.model.decoding import build_decoding
from xarray_crism.model.reader import read_array

from .conftest import TRDRS

DIMS = ("band", "line", "sample")
#: isel keys of every shape the local strided paths take (an axis not named is whole); the corpus TRDRs are
#: 438 (L) or 107 (S) bands x 15 lines x 64 samples.
KEYS: dict[str, dict[str, Any]] = {
    "one band": {"band": 100},
    "last band, negative index": {"band": -1},
    "window of all bands": {"line": slice(3, 12), "sample": slice(10, 42)},
    "stepped": {"band": slice(5, 400, 7), "line": slice(None, None, 3), "sample": slice(1, None, 5)},
    "negative steps": {"band": slice(None, None, -1), "line": slice(12, 2, -2), "sample": slice(-1, 0, -3)},
    "list of bands, unsorted, repeated": {"band": [100, 10, 50, 10]},
    "lists on every axis": {"band": [1, 5, 2], "line": [0, 0, 3], "sample": [7, 3, 60]},
    "one spectrum": {"line": 5, "sample": 7},
    "one value": {"band": 3, "line": 4, "sample": 5},
    "one band image, window": {"band": 100, "line": slice(1, 9), "sample": slice(0, 64)},
}


def _gdal(label: Path) -> np.ndarray:
    with rasterio.open(label) as src:
        return src.read()


def _outer(cube: np.ndarray, key: dict[str, Any]) -> np.ndarray:
    """``cube`` (band, line, sample) outer-indexed like ``isel(**key)``."""
    for axis in reversed(range(3)):
        k = key.get(DIMS[axis], slice(None))
        cube = cube[(slice(None),) * axis + (np.asarray(k) if isinstance(k, list) else k,)]
    return cube


@pytest.mark.parametrize("label", TRDRS, ids=lambda p: p.name)
def test_raw_strided_reads_equal_gdal_bit_for_bit(label: Path) -> None:
    cube = _gdal(label)
    with xr.open_dataset(label, engine="crism", mask_and_scale=False) as ds:
        for name, key in KEYS.items():
            got, want = ds.i_over_f.isel(**key).values, _outer(cube, key)
            assert got.dtype == want.dtype and got.shape == want.shape, name
            np.testing.assert_array_equal(np.asarray(got).view(np.uint32), want.view(np.uint32), err_msg=name)


@pytest.mark.parametrize("label", TRDRS, ids=lambda p: p.name)
def test_masked_strided_reads_equal_gdal_with_the_constant_as_nan(label: Path) -> None:
    cube = _gdal(label)
    with xr.open_dataset(label, engine="crism") as ds:
        fill = np.float32(ds.i_over_f.encoding["_FillValue"])
        masked = np.where(cube == fill, np.float32(np.nan), cube)
        assert (cube == fill).any()  # the corpus TRDRs hold the constant: masking is exercised
        for name, key in KEYS.items():
            got, want = ds.i_over_f.isel(**key).values, _outer(masked, key)
            assert got.dtype == want.dtype and got.shape == want.shape, name
            np.testing.assert_array_equal(got, want, err_msg=name)


def test_strided_reads_match_the_whole_read_and_the_dask_read() -> None:
    """The same selections of the whole cube read at once (one range) and through dask chunks."""
    label = TRDRS[0]
    with xr.open_dataset(label, engine="crism") as ds, xr.open_dataset(label, engine="crism", chunks={}) as lazy:
        whole = ds.i_over_f.values
        for name, key in KEYS.items():
            want = _outer(whole, key)
            np.testing.assert_array_equal(ds.i_over_f.isel(**key).values, want, err_msg=name)
            np.testing.assert_array_equal(lazy.i_over_f.isel(**key).values, want, err_msg=name)


# --- every storage order, byte order, key and decoding: the map, the byte ranges and NumPy agree ------------------


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, ...]:
    order = draw(st.sampled_from(sorted(STORAGE_ORDERS)))
    dtype = draw(st.sampled_from(["<f4", ">f4", ">i2", "<u2", "<f8"]))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(3))
    key = tuple(draw(st.one_of(
        st.integers(-n, n - 1), st.slices(n), st.just(slice(None)),
        hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(-n, n - 1)),
    )) for n in shape)
    decode = draw(st.sampled_from(["raw", "mask", "scale"]))
    fault_bytes = draw(st.sampled_from([0, 1 << 16, 1 << 40]))  # whole rows: by preadv always, by size, never
    return order, dtype, shape, key, decode, fault_bytes


def _encoding(dtype: np.dtype, decode: str) -> tuple[dict[str, Any], np.dtype]:
    if decode == "mask":
        return {"_FillValue": 7, "missing_value": 3}, (dtype if dtype.kind == "f" else np.dtype("f4")).newbyteorder("=")
    return {"_FillValue": 5, "scale_factor": 0.5, "add_offset": -1.0}, np.dtype("f8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_local_reads_equal_byte_ranges_and_numpy(tmp_path: Path, case: tuple[Any, ...]) -> None:
    order, dtype_name, shape, key, decode, fault_bytes = case
    dtype = np.dtype(dtype_name)
    canonical = (np.arange(np.prod(shape)) % 11).reshape(shape).astype(dtype)  # holds the constants 3, 5 and 7
    dims = STORAGE_ORDERS[order]
    stored = canonical.transpose([DIMS.index(d) for d in dims])
    data = b"\x01" * 12 + stored.tobytes()
    (tmp_path / "cube.img").write_bytes(data)
    remote = f"memory://mapped-{uuid.uuid4().hex}/cube.img"
    fsspec.filesystem("memory").pipe(remote, data)
    layout = ArrayLayout("cube.img", 12, dtype, dims, stored.shape, DIMS)
    decoding = None
    expected = _outer(canonical, dict(zip(DIMS, key, strict=True)))
    if decode != "raw":
        encoding, out_dtype = _encoding(dtype, decode)
        decoding = build_decoding(dtype, encoding, out_dtype)
        expected = decoding.decode(np.asarray(expected), fresh=False)
    with mock.patch.object(local_reads, "FAULT_BYTES", fault_bytes):
        local = read_array(open_source(tmp_path / "cube.img", None), layout, key, decoding)
    ranged = read_array(open_source(remote, None), layout, key, decoding)
    want_dtype = decoding.dtype if decoding else dtype.newbyteorder("=")
    for got in (local, ranged):
        assert got.dtype == want_dtype and got.shape == np.shape(expected)
        np.testing.assert_array_equal(got, expected)
    fsspec.filesystem("memory").rm(remote)


@pytest.mark.parametrize("fault_bytes", [0, 1 << 40], ids=["by rows", "by the map"])
@pytest.mark.parametrize("decode", ["raw", "mask", "scale"])
@pytest.mark.parametrize("dtype", [">f4", "<f4", ">i2"])
def test_whole_rows_of_a_bil_cube(tmp_path: Path, fault_bytes: int, decode: str, dtype: str) -> None:
    """A band, a list of bands, every other line: whole rows, read by ``preadv`` or through the map alike."""
    canonical = (np.arange(6 * 7 * 5) % 11).reshape(6, 7, 5).astype(dtype)  # band, line, sample
    (tmp_path / "cube.img").write_bytes(canonical.transpose(1, 0, 2).tobytes())
    layout = ArrayLayout("cube.img", 0, np.dtype(dtype), ("line", "band", "sample"), (7, 6, 5), DIMS)
    decoding = None if decode == "raw" else build_decoding(np.dtype(dtype), *_encoding(np.dtype(dtype), decode))
    for key in [(2, slice(None), slice(None)), (np.array([4, 0, 4]), slice(1, None), slice(None)),
                (slice(None), slice(None, None, -2), slice(None)), (slice(None, 3), np.array([6, 2]), slice(None))]:
        expected = _outer(canonical, dict(zip(DIMS, key, strict=True)))
        if decoding is not None:
            expected = decoding.decode(np.asarray(expected), fresh=False)
        with mock.patch.object(local_reads, "FAULT_BYTES", fault_bytes):
            got = read_array(open_source(tmp_path / "cube.img", None), layout, key, decoding)
        assert got.dtype == (decoding.dtype if decoding else np.dtype(dtype).newbyteorder("="))
        np.testing.assert_array_equal(got, expected)


def test_as_slice_keeps_evenly_spaced_indices_of_either_step() -> None:
    assert local_reads.as_slice(np.array([4])) == slice(4, 5)
    assert local_reads.as_slice(np.array([2, 5, 8])) == slice(2, 11, 3)
    assert local_reads.as_slice(np.array([6, 4, 2, 0])) == slice(6, None, -2)
    assert local_reads.as_slice(np.array([3, 3])).tolist() == [3, 3]  # type: ignore[union-attr]
    assert local_reads.as_slice(np.array([1, 2, 4])).tolist() == [1, 2, 4]  # type: ignore[union-attr]


# --- the checks of the byte-range reads hold ------------------------------------------------------------------------


def test_a_strided_read_after_the_file_changed_raises(corpus_copy: Path) -> None:
    label = corpus_copy / TRDRS[0].name
    img = label.with_suffix(".img")
    with xr.open_dataset(label, engine="crism") as ds:
        ds.i_over_f.isel(band=3).values  # noqa: B018
        stat = img.stat()
        os.utime(img, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        for key in KEYS.values():  # by rows and through the map alike
            with pytest.raises(FileChangedError, match="open it again"):
                ds.i_over_f.isel(**key).values  # noqa: B018


def test_a_strided_read_past_the_end_of_the_file_raises(tmp_path: Path) -> None:
    """A file shorter than its layout (no stamp to compare): the map is never touched past the end."""
    (tmp_path / "short.img").write_bytes(np.zeros(4 * 5 * 6 - 1, dtype=np.uint8).tobytes())
    layout = ArrayLayout("short.img", 0, np.dtype("<f4"), ("line", "band", "sample"), (4, 5, 6), DIMS)
    with pytest.raises(TruncatedFileError, match="shorter than its label"):
        read_array(open_source(tmp_path / "short.img", None), layout, (2, slice(None), slice(None)))

