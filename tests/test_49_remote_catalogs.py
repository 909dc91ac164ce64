"""Volumes as catalogs over real servers on loopback: HTTP (Range), S3 (moto), chained caches, faults."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import intake
import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.errors import RemoteReadError
from xarray_crism.io.sources import MAX_ATTEMPTS

from .http_server import RangeServer
from .s3_server import S3Server

A, B_L = "FRT00014679_01_IF156S_TRR3", "FRT0001458F_01_IF156L_TRR3"
NAMES = [B_L, "FRT0001458F_01_IF156S_TRR3", A, "HRL000040FF_07_IF183L_TRR3"]


def _open(base: str, storage_options: dict[str, Any] | None = None, **filters: Any) -> Any:
    return xarray_crism.open_catalog(
        f"{base}/mrocr_2104/", ddr_volume=f"{base}/mrocr_1002/", cdr_volume=f"{base}/mrocr_0001/",
        storage_options=storage_options, **filters,
    )


def _local(volumes: dict[str, Path], name: str) -> xr.Dataset:
    return xarray_crism.open_catalog(
        volumes["trdr"], ddr_volume=volumes["ddr"], cdr_volume=volumes["cdr"],
    )[name].read(mask_and_scale=False).load()


def _assert_same_values(remote: xr.Dataset, local: xr.Dataset) -> None:
    """Every variable and coordinate equal (attributes hold URLs, which differ by design)."""
    xr.testing.assert_equal(remote.drop_attrs(), local.drop_attrs())
    assert remote.attrs["ddr_product_id"] == local.attrs["ddr_product_id"]
    assert remote.wavelength.attrs["source"] == local.wavelength.attrs["source"]


@pytest.fixture
def server(volume_server: RangeServer) -> RangeServer:
    fsspec.filesystem("http").clear_instance_cache()
    volume_server.reset()
    return volume_server


def test_http_volume_is_browsable_searchable_and_reads_like_local(server: RangeServer, volumes: dict[str, Path]) -> None:
    cat = _open(server.url)
    assert sorted(cat) == NAMES
    entry = cat[A]
    ddr = f"{server.url}/mrocr_1002/ddr/2009/2009_228/frt00014679/frt00014679_01_de156s_ddr1.lbl"
    assert entry.metadata["sidecars"]["ddr"] == ddr
    _assert_same_values(entry.read(mask_and_scale=False).load(), _local(volumes, A))
    assert sorted(_open(server.url, sensor="L", bbox=(77, 18, 78, 19))) == [B_L]


def test_one_spectrum_over_http_transfers_about_one_line_and_the_label_once(
    server: RangeServer, volumes: dict[str, Path],
) -> None:
    cat = _open(server.url)
    server.reset()
    ds = cat[B_L].read(ddr=None, sidecar_dirs=[], mask_and_scale=False)
    label_gets = [n for p, n in server.httpd.log if p.endswith("_trr3.lbl")]
    assert len(label_gets) == 1
    server.reset()
    spectrum = ds.i_over_f.isel(line=7, sample=30).values
    line_bytes = ds.sizes["band"] * ds.sizes["sample"] * 4
    assert spectrum.shape == (438,) and server.bytes_sent <= line_bytes  # BIL: one line holds the spectrum
    assert all(p.endswith("_trr3.img") for p, _ in server.httpd.log)
    local = xr.open_dataset(volumes["trdr"] / "trdr/2009/2009_226/frt0001458f/frt0001458f_01_if156l_trr3.lbl",
                            engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(spectrum, local.i_over_f.isel(line=7, sample=30).values)


def test_chained_simplecache_reads_the_same(server: RangeServer, volumes: dict[str, Path], tmp_path: Path) -> None:
    url = f"simplecache::{server.url}/mrocr_2104/trdr/2009/2009_228/frt00014679/frt00014679_01_if156s_trr3.lbl"
    options = {"simplecache": {"cache_storage": str(tmp_path / "cache")}}
    ds = xr.open_dataset(url, engine="crism", storage_options=options, mask_and_scale=False)
    direct = xr.open_dataset(volumes["trdr"] / "trdr/2009/2009_228/frt00014679/frt00014679_01_if156s_trr3.lbl",
                             engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(ds.i_over_f.values, direct.i_over_f.values)
    assert any((tmp_path / "cache").iterdir())


@pytest.mark.parametrize("anon", [True, False])
def test_s3_volume_reads_like_local(volume_s3: S3Server, volumes: dict[str, Path], anon: bool) -> None:
    fsspec.filesystem("s3").clear_instance_cache()
    cat = _open("s3://archive", volume_s3.storage_options(anon=anon))
    assert sorted(cat) == NAMES
    assert cat[A].metadata["sidecars"]["ddr"] == "s3://archive/mrocr_1002/ddr/2009/2009_228/frt00014679/frt00014679_01_de156s_ddr1.lbl"
    _assert_same_values(cat[A].read(mask_and_scale=False).load(), _local(volumes, A))
    assert sorted(_open("s3://archive", volume_s3.storage_options(anon=anon), observation_id="FRT0001458F")) == NAMES[:2]


def test_s3_without_rights_is_refused_at_once_not_retried(volume_s3: S3Server, caplog: pytest.LogCaptureFixture) -> None:
    fsspec.filesystem("s3").clear_instance_cache()
    with caplog.at_level(logging.WARNING, logger="xarray_crism"), pytest.raises(PermissionError):
        _open("s3://private", volume_s3.storage_options(anon=True))
    assert not [r for r in caplog.records if "attempt" in r.getMessage()]
    assert len(_open("s3://private", volume_s3.storage_options(anon=False))) == 4


def test_mastcamz_bundle_over_http_and_s3(server: RangeServer, volume_s3: S3Server, volumes: dict[str, Path]) -> None:
    name = "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02"
    local = xr.open_dataset(volumes["mastcamz"] / "data/0711/rad" / f"{name}.IMG", engine="crism").load()
    fsspec.filesystem("s3").clear_instance_cache()
    for base, options in ((server.url, None), ("s3://archive", volume_s3.storage_options(anon=True))):
        cat = xarray_crism.open_catalog(f"{base}/mars2020_mastcamz_sci_calibrated/", storage_options=options, sol=711)
        assert len(cat) == 3 and cat[name].metadata["sensor"] == "L"
        xr.testing.assert_equal(cat[name].read().load().drop_attrs(), local.drop_attrs())


@pytest.mark.parametrize("faults", [["503"], ["500", "503"], ["drop"], ["drop", "503", "500"]])
def test_server_faults_are_retried_and_never_change_values(
    server: RangeServer, volumes: dict[str, Path], faults: list[str], caplog: pytest.LogCaptureFixture,
) -> None:
    ds = _open(server.url)[A].read(mask_and_scale=False)
    server.reset(faults=faults)
    with caplog.at_level(logging.WARNING, logger="xarray_crism"):
        values = ds.i_over_f.values
    np.testing.assert_array_equal(values, _local(volumes, A).i_over_f.values)
    assert len([r for r in caplog.records if "attempt" in r.getMessage()]) == len(faults)


def test_opening_a_catalog_survives_failing_listings_and_probes(
    server: RangeServer, caplog: pytest.LogCaptureFixture,
) -> None:
    faults = ["503", "ok", "500", "ok", "ok", "503", "503", "ok", "ok", "ok", "500"]  # listings, HEAD probes, labels
    server.reset(faults=faults, any_request=True)
    with caplog.at_level(logging.WARNING, logger="xarray_crism"):
        cat = _open(server.url)
    assert sorted(cat) == NAMES and cat[A].metadata["sidecars"]["ddr"] is not None
    assert not server.httpd.faults  # every fault was served; fsspec absorbs a failed HEAD itself (it falls back to GET)
    retried = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert 4 <= len(retried) <= 6 and any("directory listing" in m for m in retried)


def test_a_server_that_keeps_failing_gives_a_clear_error(server: RangeServer) -> None:
    ds = _open(server.url)[A].read(mask_and_scale=False)
    server.reset(faults=["503"] * MAX_ATTEMPTS)
    with pytest.raises(RemoteReadError, match=rf"frt00014679_01_if156s_trr3\.img: bytes .* within {MAX_ATTEMPTS} attempts"):
        ds.i_over_f.values  # noqa: B018


def test_a_server_that_ignores_range_is_detected_and_simplecache_is_the_way_out(server: RangeServer, tmp_path: Path) -> None:
    url = f"{server.url}/mrocr_2104/trdr/2009/2009_228/frt00014679/frt00014679_01_if156s_trr3.lbl"
    server.reset(ignore_range=True)
    ds = xr.open_dataset(url, engine="crism", mask_and_scale=False)
    with pytest.raises(RemoteReadError, match=r"ignored the Range header"):
        ds.i_over_f.isel(line=0).values  # noqa: B018
    cached = xr.open_dataset(f"simplecache::{url}", engine="crism", mask_and_scale=False,
                             storage_options={"simplecache": {"cache_storage": str(tmp_path)}})
    server.reset()
    ranged = xr.open_dataset(url, engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(cached.i_over_f.values, ranged.i_over_f.values)


CATALOGS = Path(__file__).resolve().parents[1] / "catalogs"
MIRROR = {  # shipped catalog layout below ``root`` -> generated volume
    "mro/mro-m-crism-3-rdr-targeted-v1/mrocr_2104": "trdr", "mro/mro-m-crism-6-ddr-v1/mrocr_1002": "ddr",
    "mro/mro-m-crism-2-edr-v1/mrocr_0001": "cdr", "mars2020/mars2020_mastcamz_sci_calibrated": "mastcamz",
}


@pytest.fixture
def mirror(volumes: dict[str, Path], tmp_path: Path) -> Iterator[RangeServer]:
    """The generated volumes laid out as on the public servers, served over HTTP."""
    for where, kind in MIRROR.items():
        (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / where).symlink_to(volumes[kind], target_is_directory=True)
    with RangeServer(tmp_path) as server:
        yield server


def test_shipped_catalogs_load_point_at_the_public_archive_and_read_a_mirror(
    mirror: RangeServer, volumes: dict[str, Path],
) -> None:
    trdr = intake.from_yaml_file(str(CATALOGS / "crism_trdr.yaml"))
    assert len(trdr) == 16 and trdr["mrocr_2104"].kwargs["ddr_volume"].startswith("https://pds-geosciences.wustl.edu/mro/")
    products = trdr(root=f"{mirror.url}/mro")["mrocr_2104"].read(observation_id="00014679")
    assert list(products) == [A]
    _assert_same_values(products[A].read(mask_and_scale=False).load(), _local(volumes, A))
    ddrs = intake.from_yaml_file(str(CATALOGS / "crism_ddr.yaml"))(root=f"{mirror.url}/mro")["mrocr_1002"].read(sensor="L")
    assert sorted(ddrs) == ["FRT0001458F_01_DE156L_DDR1", "HRL000040FF_07_DE183L_DDR1"]
    mastcamz = intake.from_yaml_file(str(CATALOGS / "mastcamz.yaml"))(root=f"{mirror.url}/mars2020")
    assert len(mastcamz["sci_calibrated"].read(sol=711)) == 3
    for name in ("crism_mtrdr.yaml", "crism_mrdr.yaml"):
        (entry,) = intake.from_yaml_file(str(CATALOGS / name)).aliases
        assert intake.from_yaml_file(str(CATALOGS / name))[entry].kwargs["data"].url.startswith("https://pds-geosciences.wustl.edu/")


def test_shipped_catalogs_are_what_the_generator_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(CATALOGS.parent / "tools" / "make_catalogs.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for shipped in CATALOGS.glob("*.yaml"):
        assert (tmp_path / shipped.name).read_text() == shipped.read_text(), shipped.name
