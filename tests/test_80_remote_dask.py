"""Layer 8: remote reads over a real HTTP server (Range), dask chunks, pickling."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.testing import write_cube

from .conftest import CRISM
from .http_server import RangeServer

TEMPLATE = CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl"


@pytest.fixture
def served(http_root: tuple[Path, RangeServer]) -> tuple[Path, RangeServer, np.ndarray]:
    root, server = http_root
    data = np.random.default_rng(7).uniform(0, 0.5, (40, 30, 64)).astype(np.float32)
    write_cube(root, TEMPLATE, "FRT0001458F_01_IF156L_TRR3", data, detector_rows=np.arange(40))
    for name in ("CDR450924300802_WA0300000L_3.LBL", "CDR450924300802_WA0300000L_3.IMG"):
        shutil.copy(CRISM / "cdr" / name, root / name)
    return root, server, data


def test_open_over_http_reads_labels_only_then_one_line_per_spectrum(served: tuple[Path, RangeServer, np.ndarray]) -> None:
    root, server, data = served
    server.reset()
    ds = xr.open_dataset(f"{server.url}/frt0001458f_01_if156l_trr3.lbl", engine="crism")
    labels = ("frt0001458f_01_if156l_trr3.lbl", "CDR450924300802_WA0300000L_3.LBL")  # the product's and its WA's
    label_bytes = sum((root / name).stat().st_size for name in labels)
    assert server.bytes_sent == label_bytes  # the two labels, whole, and no byte of data
    server.reset()
    spectrum = ds.i_over_f.isel(line=12, sample=5).values
    np.testing.assert_array_equal(spectrum, data[:, 12, 5])
    line_bytes = 40 * 64 * 4
    assert server.bytes_sent == line_bytes


def test_server_that_ignores_range_never_gives_wrong_bytes(served: tuple[Path, RangeServer, np.ndarray]) -> None:
    _, server, _ = served
    ds = xr.open_dataset(f"{server.url}/frt0001458f_01_if156l_trr3.lbl", engine="crism")
    server.reset(ignore_range=True)
    with pytest.raises((xarray_crism.TruncatedFileError, ValueError)):
        _ = ds.i_over_f.isel(line=3).values


def test_remote_dask_chunks_follow_storage_and_pickle(served: tuple[Path, RangeServer, np.ndarray]) -> None:
    _, server, data = served
    ds = xr.open_dataset(f"{server.url}/frt0001458f_01_if156l_trr3.lbl", engine="crism", chunks={})
    assert ds.i_over_f.chunks == ((40,), (30,), (64,))
    assert ds.i_over_f.encoding["preferred_chunks"] == {"line": 30, "band": 40, "sample": 64}
    again = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(again.i_over_f.values, data)
    assert ds.wavelength.attrs["source"].startswith("CDR450924300802_WA0300000L_3")


def test_local_dask_chunks_of_a_large_cube(tmp_path: Path) -> None:
    data = np.random.default_rng(1).uniform(0, 1, (438, 700, 64)).astype(np.float32)
    product = write_cube(tmp_path, TEMPLATE, "FRT0001458F_01_IF156L_TRR3", data, detector_rows=np.arange(438))
    ds = xr.open_dataset(product.label, engine="crism", chunks={})
    lines_per_chunk = ds.i_over_f.encoding["preferred_chunks"]["line"]
    assert lines_per_chunk == (32 * 2**20) // (438 * 64 * 4)
    assert ds.i_over_f.chunks[1] == (299, 299, 102)
    np.testing.assert_array_equal(ds.i_over_f.max("line").values, data.max(axis=1))
