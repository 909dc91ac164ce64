"""Partial reads: sparse second-axis selections are read piece by piece, and equal NumPy's indexing."""

from __future__ import annotations

from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xarray_crism.formats.layouts import STORAGE_ORDERS, ArrayLayout
from xarray_crism.io.sources import open_source
from xarray_crism.model import reader
from xarray_crism.model.reader import build_ranges, read_array

BIL = ArrayLayout("x", 0, np.dtype("<f4"), ("line", "band", "sample"), (480, 438, 320), ("band", "line", "sample"))


def test_five_bands_of_bil_read_only_those_bands() -> None:
    """A list of 5 bands of a line-interleaved cube: 5 ranges per line, each one band's samples (not the span)."""
    pieces = reader._pieces(np.array([400, 10, 200, 100, 300]), 438, reader._row_bytes(BIL))
    assert pieces == [(10, 11), (100, 101), (200, 201), (300, 301), (400, 401)]
    ranges, _ = build_ranges(BIL, np.arange(480), pieces)
    assert len(ranges) == 480 * 5 and sum(b - a for a, b in ranges) == 480 * 5 * 320 * 4
    line, band = 438 * 320 * 4, 320 * 4
    assert ranges[1] == (100 * band, 101 * band) and ranges[5] == (line + 10 * band, line + 11 * band)


def test_close_indices_are_read_as_one_span() -> None:
    """Indices a few rows apart are cheaper read with their gap than as separate ranges."""
    assert reader._pieces(np.array([3, 5, 9]), 438, 1280) == [(3, 10)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, tuple[int, int, int], tuple[object, ...]]:
    order = draw(st.sampled_from(sorted(STORAGE_ORDERS)))
    dtype = draw(st.sampled_from(["<f4", ">i2", "<f8"]))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(3))
    key = tuple(draw(st.one_of(
        st.integers(0, n - 1), st.slices(n), hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(0, n - 1)),
    )) for n in shape)
    return order, dtype, shape, key  # type: ignore[return-value]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_sparse_pieces_match_numpy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: tuple[object, ...]) -> None:
    """With no gap merged, every run of the second axis is its own range: the values still equal NumPy's."""
    monkeypatch.setattr(reader, "MERGE_GAP_BYTES", -1)
    order, dtype, shape, key = case
    canonical = np.arange(np.prod(shape)).reshape(shape).astype(dtype)  # type: ignore[arg-type]
    dims = STORAGE_ORDERS[order]  # type: ignore[index]
    stored = canonical.transpose([("band", "line", "sample").index(d) for d in dims])
    path = tmp_path / "cube.img"
    path.write_bytes(b"\x01" * 8 + stored.tobytes())
    layout = ArrayLayout("cube.img", 8, np.dtype(dtype), dims, stored.shape, ("band", "line", "sample"))  # type: ignore[arg-type]
    got = read_array(open_source(path, None), layout, key)  # type: ignore[arg-type]
    expected = canonical
    for axis in reversed(range(3)):
        expected = expected[(slice(None),) * axis + (key[axis],)]  # type: ignore[index]
    assert got.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(got, expected)
