"""Layer 5: ``xr.open_dataset(path)`` without ``engine=`` picks ``crism`` for IMGs, locally and over HTTP."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from xarray.backends.plugins import guess_engine, list_engines

from xarray_crism.xr.backend import GUESS_BYTES, CrismBackendEntrypoint

from .conftest import CORPUS, CRISM
from .http_server import RangeServer

MASTCAMZ = CORPUS / "mastcamz" / "rad" / "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02.IMG"
TRDR_IMG = CRISM / "trdr" / "frt0001458f_01_if156l_trr3.img"


def _gdal(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read()


def test_rasterio_is_installed_and_would_claim_an_img() -> None:
    engines = list_engines()
    assert "rasterio" in engines and engines["rasterio"].guess_can_open(str(MASTCAMZ))
    assert list(engines).index("crism") < list(engines).index("rasterio")  # xarray asks crism first


def test_a_mastcamz_img_opens_with_crism_without_engine() -> None:
    assert guess_engine(str(MASTCAMZ)) == "crism"
    ds = xr.open_dataset(MASTCAMZ, mask_and_scale=False)
    assert list(ds.data_vars) == ["radiance"] and ds.attrs["product_id"].startswith("ZL0_0711_0730054943")
    np.testing.assert_array_equal(ds.radiance.values, _gdal(MASTCAMZ))


def test_a_crism_img_with_its_label_beside_opens_with_crism_without_engine() -> None:
    assert guess_engine(str(TRDR_IMG)) == "crism"
    ds = xr.open_dataset(TRDR_IMG, mask_and_scale=False)
    assert ds.attrs["product_id"] == "FRT0001458F_01_IF156L_TRR3"
    expected = _gdal(TRDR_IMG.with_suffix(".lbl"))
    np.testing.assert_array_equal(ds.i_over_f.values.view(np.uint32), expected.view(np.uint32))


def test_an_img_without_a_label_is_not_claimed(tmp_path: Path) -> None:
    shutil.copy(TRDR_IMG, tmp_path / TRDR_IMG.name)
    (tmp_path / "plain.IMG").write_bytes(b"\x00" * 1024)
    entry = CrismBackendEntrypoint()
    assert not entry.guess_can_open(str(tmp_path / TRDR_IMG.name))
    assert not entry.guess_can_open(str(tmp_path / "plain.IMG"))
    assert not entry.guess_can_open(str(tmp_path / "absent.img"))
    shutil.copy(TRDR_IMG.with_suffix(".lbl"), tmp_path / (TRDR_IMG.stem.upper() + ".LBL"))
    assert entry.guess_can_open(str(tmp_path / TRDR_IMG.name))  # an upper-case label beside it


@pytest.fixture
def served(http_root: tuple[Path, RangeServer]) -> tuple[Path, RangeServer]:
    root, server = http_root
    for path in (MASTCAMZ, TRDR_IMG, TRDR_IMG.with_suffix(".lbl")):
        shutil.copy(path, root / path.name)
    for name in ("CDR450924300802_WA0300000L_3.LBL", "CDR450924300802_WA0300000L_3.IMG"):
        shutil.copy(CRISM / "cdr" / name, root / name)
    return root, server


def test_a_remote_mastcamz_img_is_sniffed_with_one_small_range(served: tuple[Path, RangeServer]) -> None:
    _, server = served
    url = f"{server.url}/{MASTCAMZ.name}"
    server.reset()
    assert CrismBackendEntrypoint().guess_can_open(url)
    assert server.bytes_sent == GUESS_BYTES and server.httpd.requests == 1
    ds = xr.open_dataset(url, mask_and_scale=False)
    np.testing.assert_array_equal(ds.radiance.values, _gdal(MASTCAMZ))


def test_a_remote_crism_img_is_claimed_by_its_label_beside_it(served: tuple[Path, RangeServer]) -> None:
    _, server = served
    url = f"{server.url}/{TRDR_IMG.name}"
    assert guess_engine(url) == "crism"
    ds = xr.open_dataset(url, mask_and_scale=False)
    np.testing.assert_array_equal(ds.i_over_f.values.view(np.uint32), _gdal(TRDR_IMG.with_suffix(".lbl")).view(np.uint32))
    assert not CrismBackendEntrypoint().guess_can_open(f"{server.url}/{MASTCAMZ.stem}.missing.img")
