"""Virtual Zarr references: the archive's own files read as Zarr (local, HTTP with Range, S3), JSON and parquet."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.cloud.references import write_references
from xarray_crism.model.read import read_product
from xarray_crism.testing import write_cube
from xarray_crism.xr.indexes import set_wavelength_index

from .conftest import CORPUS, CRISM, TRDRS
from .http_server import RangeServer
from .s3_server import S3Server

RADS = sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))


def _in_backend_order(virtual: xr.Dataset, source: xr.Dataset) -> xr.Dataset:
    name = next(iter(source.data_vars))
    return set_wavelength_index(virtual.transpose(*source[name].dims, ...))  # a store holds no index


@pytest.mark.parametrize("path", [*TRDRS, *RADS], ids=lambda p: p.name[:30])
def test_references_read_a_real_product_as_zarr_equal_to_the_backend(path: Path, tmp_path: Path) -> None:
    report = write_references(path, tmp_path / "refs.json")
    assert report.ok, report.summary()
    virtual = xr.open_dataset(str(tmp_path / "refs.json"), engine="kerchunk")
    source = xr.open_dataset(path, engine="crism")
    xr.testing.assert_identical(_in_backend_order(virtual, source).load(), source.load())
    raw = xr.open_dataset(str(tmp_path / "refs.json"), engine="kerchunk", open_dataset_options={"mask_and_scale": False})
    raw_source = xr.open_dataset(path, engine="crism", mask_and_scale=False)
    for name in raw_source.data_vars:
        assert raw[name].dtype == raw_source[name].dtype  # byte order kept by the dtype, values as stored
        assert _in_backend_order(raw, raw_source)[name].values.tobytes() == raw_source[name].values.tobytes()


def test_chunks_are_whole_records_of_the_file(tmp_path: Path) -> None:
    write_references(TRDRS[0], tmp_path / "refs.json")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    zarray = json.loads(refs["i_over_f/.zarray"])
    line = 438 * 64 * 4  # one record of the BIL file: 112 KB
    assert zarray["shape"] == [15, 438, 64] and zarray["chunks"] == [5, 438, 64]  # 5 lines: the biggest divisor <= 1 MiB
    assert zarray["dtype"] == "<f4" and zarray["compressor"] is None and zarray["fill_value"] == 65535.0
    assert json.loads(refs["i_over_f/.zattrs"])["_ARRAY_DIMENSIONS"] == ["line", "band", "sample"]
    chunks = sorted(k for k in refs if k.startswith("i_over_f/") and not k.endswith((".zarray", ".zattrs")))
    assert chunks == ["i_over_f/0.0.0", "i_over_f/1.0.0", "i_over_f/2.0.0"]
    for i, key in enumerate(chunks):
        assert refs[key] == [str(TRDRS[0].with_suffix(".img")), i * 5 * line, 5 * line]
    assert refs["wavelength/0"].startswith("base64:")  # computed from the calibration table: inline


@pytest.fixture
def big_cube(tmp_path: Path) -> tuple[Path, np.ndarray]:
    data = np.random.default_rng(3).uniform(0, 0.5, (438, 40, 64)).astype(np.float32)
    root = tmp_path / "www"
    root.mkdir()
    write_cube(root, TRDRS[0], "FRT0001458F_01_IF156L_TRR3", data, detector_rows=np.arange(438))
    for name in ("CDR450924300802_WA0300000L_3.LBL", "CDR450924300802_WA0300000L_3.IMG"):
        shutil.copy(CRISM / "cdr" / name, root / name)
    return root, data


def test_over_http_one_spectrum_is_one_request_of_one_chunk_of_whole_lines(
    big_cube: tuple[Path, np.ndarray], tmp_path: Path,
) -> None:
    root, data = big_cube
    with RangeServer(root) as server:
        refs = tmp_path / "refs.json"
        assert write_references(f"{server.url}/frt0001458f_01_if156l_trr3.lbl", refs).ok
        assert json.loads(refs.read_text())["refs"]["i_over_f/0.0.0"][0].startswith(server.url)
        virtual = xr.open_dataset(str(refs), engine="kerchunk")
        server.reset()
        spectrum = virtual.i_over_f.isel(line=21, sample=30).values
        np.testing.assert_array_equal(spectrum, data[:, 21, 30])
        chunk = json.loads(refs.read_text())["refs"]["i_over_f/2.0.0"]  # lines 16-23: 8 lines of 112 KB, <= 1 MiB
        assert chunk[1:] == [16 * 438 * 64 * 4, 8 * 438 * 64 * 4]
        assert server.httpd.log == [("/frt0001458f_01_if156l_trr3.img", chunk[2])]


def test_references_to_s3_sources_written_to_s3(big_cube: tuple[Path, np.ndarray]) -> None:
    root, data = big_cube
    with S3Server() as s3:
        s3.upload("archive", root, public=True)
        s3.client().create_bucket(Bucket="out")
        reader, writer = s3.storage_options(anon=True), s3.storage_options(anon=False)
        report = write_references("s3://archive/frt0001458f_01_if156l_trr3.lbl", "s3://out/refs.json",
                                  storage_options=writer, source_storage_options=reader)
        assert report.ok, report.summary()
        virtual = xr.open_dataset(
            "s3://out/refs.json", engine="kerchunk",
            storage_options={"target_options": writer, "remote_protocol": "s3", "remote_options": reader},
        )
        np.testing.assert_array_equal(virtual.i_over_f.transpose("band", "line", "sample").values, data)


def test_a_list_becomes_groups_in_json_and_one_parquet_store_per_product(tmp_path: Path) -> None:
    sources = [*TRDRS, *RADS]
    assert write_references(sources, tmp_path / "all.json").ok
    assert write_references(sources, tmp_path / "all.parquet").ok
    tree = xr.open_datatree("reference://", engine="zarr", zarr_format=2, consolidated=True,
                            storage_options={"fo": str(tmp_path / "all.json")})
    assert sorted(tree.children) == sorted(p.stem.upper() for p in sources)
    for path in sources:
        source = xr.open_dataset(path, engine="crism").load()
        from_json = tree[path.stem.upper()].to_dataset()
        from_parquet = xr.open_dataset(str(tmp_path / "all.parquet" / path.stem.upper()), engine="kerchunk")
        for virtual in (from_json, from_parquet):
            xr.testing.assert_identical(_in_backend_order(virtual, source).load(), source)


def test_targets_are_not_overwritten_and_computed_images_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "refs.json"
    target.write_text("mine")
    with pytest.raises(xarray_crism.CrismError, match="never overwrites"):
        write_references(TRDRS[0], target)
    assert target.read_text() == "mine"
    assert write_references(TRDRS[0], target, mode="w").ok and json.loads(target.read_text())["version"] == 1
    with pytest.raises(xarray_crism.CrismError, match="bayer='raw'"):
        write_references([xarray_crism.cloud.convert.Job("x", str(RADS[0]), bayer="split")], tmp_path / "b.json")


def test_the_command_line_writes_references(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "xarray_crism.cli", "convert", "--virtual", str(TRDRS[0]), str(tmp_path / "r.json")],
        capture_output=True, text=True,
    )
    assert run.returncode == 0 and "1 converted" in run.stdout, run.stderr
    virtual = xr.open_dataset(str(tmp_path / "r.json"), engine="kerchunk")
    source = xr.open_dataset(TRDRS[0], engine="crism")
    xr.testing.assert_identical(_in_backend_order(virtual, source).load(), source.load())


def test_ddr_backplanes_are_referenced_band_by_band(volumes: dict[str, Path], tmp_path: Path) -> None:
    label = volumes["ddr"] / "ddr/2009/2009_226/frt0001458f/frt0001458f_01_de156l_ddr1.lbl"
    assert write_references(label, tmp_path / "ddr.json").ok
    virtual = xr.open_dataset(str(tmp_path / "ddr.json"), engine="kerchunk").load()
    source = xr.open_dataset(label, engine="crism").load()
    xr.testing.assert_identical(virtual, source)  # 2-D backplanes: (line, sample) in both orders
    refs = json.loads((tmp_path / "ddr.json").read_text())["refs"]
    name = next(iter(source.data_vars))
    layout = read_product(str(label))[0].variables[name].data.layout  # type: ignore[attr-defined]
    runs = [source.sizes["line"], source.sizes["sample"]] if layout.storage_dims[0] == "band" else [1, source.sizes["sample"]]
    assert json.loads(refs[f"{name}/.zarray"])["chunks"] == runs  # BSQ: the band's plane; BIL: one line of it


def test_an_icechunk_repository_reads_every_product_in_the_backend_order_without_a_copy(tmp_path: Path) -> None:
    from xarray_crism.cloud.icechunk_refs import open_icechunk

    sources = [*TRDRS, *RADS]
    report = write_references(sources, tmp_path / "all.icechunk")
    assert report.ok and report.count("converted") == len(sources), report.summary()
    for path in sources:
        stored = open_icechunk(str(tmp_path / "all.icechunk"), path.stem.upper())
        source = xr.open_dataset(path, engine="crism")
        xr.testing.assert_identical(stored.load(), source.load())  # (band, line, sample): the transpose codec
    repo_bytes = sum(p.stat().st_size for p in (tmp_path / "all.icechunk").rglob("*") if p.is_file())
    data_bytes = sum(p.with_suffix(".img").stat().st_size for p in TRDRS) + sum(p.stat().st_size for p in RADS)
    assert repo_bytes < data_bytes / 10  # references and small coordinates, not the data


def test_an_icechunk_repository_refuses_remote_sources(big_cube: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    root, _ = big_cube
    with RangeServer(root) as server:
        report = write_references(f"{server.url}/frt0001458f_01_if156l_trr3.lbl", tmp_path / "r.icechunk")
    assert not report.ok and "drops the port" in report.summary()
    assert not (tmp_path / "r.icechunk").exists()
