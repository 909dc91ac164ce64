"""Zarr chunk layouts: named presets (``chunks=`` / ``--chunks``), their shapes, and stores that read back exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from xarray_crism.cloud.conversion import to_zarr
from xarray_crism.cloud.stores import RECORD_KEY
from xarray_crism.cloud.zarr_layout import DEFAULT_LAYOUT, LAYOUTS, SHARD_BYTES, build_chunking
from xarray_crism.errors import QueryError
from xarray_crism.testing import write_cube

from .conftest import TRDRS

TRDR_L = (("band", "line", "sample"), (438, 480, 640), 4)


@pytest.mark.parametrize(("layout", "chunks", "shards"), [
    ("balanced", (32, 64, 64), (96, 64, 640)),  # 512 KiB chunks; a shard is one row of tiles: 64 whole lines of 96 bands
    ("spectra", (438, 32, 32), (438, 32, 288)),  # whole spectra: the layout of earlier versions
    ("bands", (1, 480, 512), (8, 480, 1024)),  # one band image per chunk
])
def test_named_layouts_of_a_full_size_trdr(layout: str, chunks: tuple[int, ...], shards: tuple[int, ...]) -> None:
    got = build_chunking(*TRDR_L, layout)
    assert (got.chunks, got.shards) == (chunks, shards)
    assert got.shards is not None and all(s % c == 0 for s, c in zip(got.shards, got.chunks, strict=True))
    assert np.prod(got.shards) * 4 <= SHARD_BYTES


def test_the_default_is_balanced_and_an_unknown_layout_is_refused() -> None:
    assert DEFAULT_LAYOUT == "balanced" and set(LAYOUTS) == {"balanced", "spectra", "bands"}
    assert build_chunking(*TRDR_L) == build_chunking(*TRDR_L, "balanced")
    with pytest.raises(QueryError, match=r"'cubes'.*one of 'balanced', 'spectra', 'bands'"):
        build_chunking(*TRDR_L, "cubes")
    with pytest.raises(QueryError):
        to_zarr(TRDRS[0], "/nonexistent/never.zarr", chunks="cubes")


@pytest.fixture(scope="module")
def cube_product(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    tmp = tmp_path_factory.mktemp("layouts")
    cube = np.random.default_rng(5).random((438, 70, 100), dtype=np.float32)
    cube[:, :, :2] = 65535.0
    return write_cube(tmp, TRDRS[0], "FRT0001458F_01_IF156L_TRR3", cube).label, cube


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_round_trips_and_is_recorded(layout: str, cube_product: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    label, cube = cube_product
    assert to_zarr(label, tmp_path / "out.zarr", chunks=layout, verify=True).ok
    meta = json.loads((tmp_path / "out.zarr" / "i_over_f" / "zarr.json").read_text())
    expected = build_chunking(("band", "line", "sample"), cube.shape, 4, layout)
    assert meta["codecs"][0]["configuration"]["chunk_shape"] == list(expected.chunks)
    with xr.open_zarr(tmp_path / "out.zarr") as ds, xr.open_dataset(label, engine="crism") as src:
        np.testing.assert_array_equal(ds.i_over_f.values, src.i_over_f.values)
        assert np.isnan(ds.i_over_f.values[:, :, :2]).all()
        record = ds.attrs[RECORD_KEY]
        assert (json.loads(record) if isinstance(record, str) else record)["options"]["chunks"] == layout
    assert to_zarr(label, tmp_path / "out.zarr", chunks=layout).count("skipped") == 1  # same options: done already


def test_the_command_line_takes_a_layout(cube_product: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    label, _ = cube_product
    run = subprocess.run([sys.executable, "-m", "xarray_crism.cli", "convert", "--chunks", "bands", "--no-progress",
                          str(label), str(tmp_path / "cli.zarr")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    meta = json.loads((tmp_path / "cli.zarr" / "i_over_f" / "zarr.json").read_text())
    assert meta["codecs"][0]["configuration"]["chunk_shape"][0] == 1
    bad = subprocess.run([sys.executable, "-m", "xarray_crism.cli", "convert", "--chunks", "cubes", str(label),
                          str(tmp_path / "bad.zarr")], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'cubes'" in bad.stderr
