"""Layer 2: bytes and array layouts. Lazy outer indexing equals NumPy's, for every layout."""

from __future__ import annotations

from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xarray_crism.errors import TruncatedFileError, UnsafePathError
from xarray_crism.formats.layouts import STORAGE_ORDERS, ArrayLayout, build_dtype
from xarray_crism.io.sources import SidecarFinder, check_plain_name, open_source
from xarray_crism.model.reader import build_ranges, read_array

DTYPES = ["<f4", ">f4", ">u2", "<i2", ">i4", "u1", "<f8"]


def _outer(data: np.ndarray, key: tuple[object, ...]) -> np.ndarray:
    for axis in reversed(range(len(key))):
        data = data[(slice(None),) * axis + (key[axis],)]
    return data


def _index(size: int) -> st.SearchStrategy[object]:
    return st.one_of(
        st.integers(-size, size - 1),
        st.builds(slice, st.none() | st.integers(0, size), st.none() | st.integers(0, size), st.none() | st.integers(1, 3)),
        hnp.arrays(np.int64, st.integers(1, 4), elements=st.integers(0, size - 1)),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, tuple[int, int, int], int, tuple[object, ...]]:
    order = draw(st.sampled_from(sorted(STORAGE_ORDERS)))
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.integers(1, 6)) for _ in range(3))
    offset = draw(st.integers(0, 40))
    key = tuple(draw(_index(n)) for n in shape)
    return order, dtype, shape, offset, key  # type: ignore[return-value]


Case = tuple[str, str, tuple[int, int, int], int, tuple[object, ...]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_outer_indexing_matches_numpy(tmp_path: Path, case: Case) -> None:
    order, dtype, shape, offset, key = case
    canonical = np.arange(np.prod(shape)).reshape(shape).astype(dtype)  # (band, line, sample)
    dims = STORAGE_ORDERS[order]
    stored = canonical.transpose([("band", "line", "sample").index(d) for d in dims])
    path = tmp_path / "cube.img"
    path.write_bytes(b"\x07" * offset + stored.tobytes())
    layout = ArrayLayout("cube.img", offset, np.dtype(dtype), dims, stored.shape, ("band", "line", "sample"))
    got = read_array(open_source(path, None), layout, key)
    expected = _outer(canonical, key)
    assert got.shape == expected.shape
    assert got.dtype.isnative and got.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(got, expected)


def test_one_spectrum_of_bil_is_one_line_of_the_file() -> None:
    layout = ArrayLayout("x", 0, np.dtype("<f4"), ("line", "band", "sample"), (480, 438, 320), ("band", "line", "sample"))
    ranges, _ = build_ranges(layout, np.array([240]), (0, 438))
    assert ranges == [(240 * 438 * 320 * 4, 241 * 438 * 320 * 4)]
    full, runs = build_ranges(layout, np.arange(480), (0, 438))
    assert full == [(0, layout.nbytes)] and runs == [480]


def test_short_file_raises_truncated(tmp_path: Path) -> None:
    path = tmp_path / "cube.img"
    path.write_bytes(b"\0" * 100)
    layout = ArrayLayout("cube.img", 0, np.dtype("<f4"), ("band", "line", "sample"), (2, 5, 5), ("band", "line", "sample"))
    with pytest.raises(TruncatedFileError, match=r"cube\.img"):
        read_array(open_source(path, None), layout, (slice(None),) * 3)
    with pytest.raises(TruncatedFileError, match=r"at least 200 bytes"):
        layout.check_fits(100, str(path))


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "http://evil/x.img", "a\\b.img", "..", "~root"])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError) as info:
        check_plain_name(name, "x.lbl", "^IMAGE")
    assert info.value.file == "x.lbl" and info.value.keyword == "^IMAGE" and info.value.value == name


def test_sidecars_are_found_case_insensitively_then_in_extra_dirs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "prod.lbl").write_text("x")
    (tmp_path / "b" / "cdr450924300802_wa0300000l_3.lbl").write_text("x")
    finder = SidecarFinder(open_source(tmp_path / "a" / "prod.lbl", None), [str(tmp_path / "b")])
    found = finder.find("CDR450924300802_WA0300000L_3.LBL", "prod.lbl", "MRO:WAVELENGTH_FILE_NAME")
    assert found is not None and found.path.endswith("b/cdr450924300802_wa0300000l_3.lbl")
    assert finder.find("CDR450924300802_WA0300000L_3.LBL", "prod.lbl", "k", local=True) is None


@pytest.mark.parametrize(
    "sample_type, bits, expected",
    [("PC_REAL", 32, "<f4"), ("IEEE_REAL", 64, ">f8"), ("MSB_UNSIGNED_INTEGER", 16, ">u2"), ("LSB_INTEGER", 8, "<i1")],
)
def test_sample_types(sample_type: str, bits: int, expected: str) -> None:
    assert build_dtype(sample_type, bits, "x.lbl") == np.dtype(expected)
