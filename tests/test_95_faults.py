"""Layer 9: faults. Truncated and changing files, HTTP servers that fail, reset, answer short or ignore
Range, S3 that throttles (moto behind a fault-injecting proxy): the values read are the file's, or a
package error says why not; retries are bounded and logged."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from xarray_crism.errors import CrismError, FileChangedError, RemoteReadError, TruncatedFileError
from xarray_crism.io.sources import MAX_ATTEMPTS

from .conftest import CRISM
from .fault_proxy import FaultProxy
from .http_server import RangeServer
from .s3_server import S3Server

LABEL = CRISM / "trdr" / "frt00014679_01_if156s_trr3.lbl"
IMG = LABEL.with_suffix(".img")
CDR = CRISM / "cdr"


def _load(location: str | Path, **kwargs: object) -> xr.Dataset:
    with xr.open_dataset(location, engine="crism", mask_and_scale=False, **kwargs) as ds:
        return ds.load()


@pytest.fixture(scope="module")
def expected() -> xr.Dataset:
    return _load(LABEL, sidecar_dirs=[CDR])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, RangeServer]]:
    root = tmp_path_factory.mktemp("www")
    for f in (LABEL, IMG, *CDR.iterdir()):
        shutil.copy(f, root / f.name)
    with RangeServer(root) as server:
        yield root, server


# --- local files -----------------------------------------------------------------------------------

@pytest.mark.parametrize("cut", [0, 1, 200, 2000, 5000, -300])
def test_truncated_labels_are_errors_or_complete(tmp_path: Path, cut: int, expected: xr.Dataset) -> None:
    text = LABEL.read_bytes()
    shutil.copy(IMG, tmp_path)
    (tmp_path / LABEL.name).write_bytes(text[:cut] if cut >= 0 else text[:len(text) + cut])
    with pytest.raises(CrismError):
        _load(tmp_path / LABEL.name, sidecar_dirs=[CDR])


@pytest.mark.parametrize("size", [0, 1, 100_000, 15 * 64 * 107 * 4 - 1])  # the image is 15 x 64 x 107 float32
def test_truncated_data_files_are_refused_at_open(tmp_path: Path, size: int) -> None:
    shutil.copy(LABEL, tmp_path)
    (tmp_path / IMG.name).write_bytes(IMG.read_bytes()[:size])
    with pytest.raises(TruncatedFileError, match="file size"):
        _load(tmp_path / LABEL.name, sidecar_dirs=[CDR])


@pytest.mark.parametrize("change", ["same size, new values", "grown", "shrunk", "touched"])
def test_files_that_change_while_open_are_never_read_as_the_old_product(
    tmp_path: Path, change: str, expected: xr.Dataset,
) -> None:
    shutil.copy(LABEL, tmp_path)
    img = Path(shutil.copy(IMG, tmp_path))
    ds = xr.open_dataset(tmp_path / LABEL.name, engine="crism", mask_and_scale=False, sidecar_dirs=[CDR])
    np.testing.assert_array_equal(ds.i_over_f.isel(line=0).values, expected.i_over_f.isel(line=0).values)
    data = img.read_bytes()
    stat = img.stat()
    if change == "same size, new values":
        img.write_bytes(bytes(len(data)))
    elif change == "grown":
        img.write_bytes(data + b"\0" * 4096)
    elif change == "shrunk":
        img.write_bytes(data[:-4096])
    os.utime(img, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(FileChangedError, match="open it again") as info:
        ds.i_over_f.isel(line=1).values  # noqa: B018
    assert info.value.file == str(img)
    ds.close()
    if change == "touched":
        xr.testing.assert_identical(_load(tmp_path / LABEL.name, sidecar_dirs=[CDR]), expected)


# --- HTTP -------------------------------------------------------------------------------------------

FAULTS = [["503"], ["500", "503", "500"], ["drop"], ["reset"], ["short"], ["reset", "short", "503"], ["short", "drop"]]


@pytest.mark.parametrize("faults", FAULTS, ids="+".join)
def test_http_faults_are_retried_and_never_change_values(
    served: tuple[Path, RangeServer], expected: xr.Dataset, faults: list[str], caplog: pytest.LogCaptureFixture,
) -> None:
    _, server = served
    ds = xr.open_dataset(f"{server.url}/{LABEL.name}", engine="crism", mask_and_scale=False,
                         sidecar_dirs=[server.url])
    server.reset(faults=faults)
    with caplog.at_level(logging.WARNING, logger="xarray_crism"):
        got = ds.i_over_f.isel(line=slice(3, 9)).values
    np.testing.assert_array_equal(got, expected.i_over_f.isel(line=slice(3, 9)).values)
    assert not server.httpd.faults, "every fault was served"
    retries = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert all(IMG.name in r for r in retries)
    # aiohttp itself retries a request once when a kept-alive connection is closed before any answer
    assert len(retries) == len(faults) - faults.count("reset") or ("reset" in faults and len(retries) <= len(faults))


@pytest.mark.parametrize(("fault", "error"), [("503", RemoteReadError), ("reset", RemoteReadError),
                                              ("short", TruncatedFileError)])
def test_http_faults_that_persist_end_in_a_bounded_error(
    served: tuple[Path, RangeServer], fault: str, error: type[Exception], caplog: pytest.LogCaptureFixture,
) -> None:
    _, server = served
    ds = xr.open_dataset(f"{server.url}/{LABEL.name}", engine="crism", sidecar_dirs=[server.url])
    server.reset(faults=[fault] * 3 * MAX_ATTEMPTS)
    started = time.perf_counter()
    try:
        with caplog.at_level(logging.WARNING, logger="xarray_crism"), pytest.raises(error) as info:
            ds.i_over_f.isel(line=0).values  # noqa: B018
    finally:
        left = len(server.httpd.faults)
        server.reset()
    assert time.perf_counter() - started < 10
    assert len([r for r in caplog.records if "attempt" in r.getMessage()]) == MAX_ATTEMPTS - 1
    if fault != "reset":  # (aiohttp retries a reset itself, once per attempt)
        assert left == 2 * MAX_ATTEMPTS, f"exactly {MAX_ATTEMPTS} attempts"
    assert server.url in info.value.file  # type: ignore[attr-defined]


def test_a_server_that_ignores_range_never_gives_wrong_bytes(served: tuple[Path, RangeServer]) -> None:
    _, server = served
    ds = xr.open_dataset(f"{server.url}/{LABEL.name}", engine="crism", sidecar_dirs=[server.url])
    server.reset(ignore_range=True)
    with pytest.raises(RemoteReadError, match="ignored the Range header"):
        ds.i_over_f.isel(line=0).values  # noqa: B018


def test_a_remote_file_truncated_after_open(tmp_path: Path, expected: xr.Dataset) -> None:
    for f in (LABEL, IMG):
        shutil.copy(f, tmp_path / f.name)
    with RangeServer(tmp_path) as server:
        ds = xr.open_dataset(f"{server.url}/{LABEL.name}", engine="crism", sidecar_dirs=[str(CDR)])
        (tmp_path / IMG.name).write_bytes(IMG.read_bytes()[:20_000])
        with pytest.raises(TruncatedFileError, match="shorter than its label"):
            ds.i_over_f.values  # noqa: B018


# --- S3 (moto behind a proxy that throttles, fails and resets) ---------------------------------------

@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[S3Server, FaultProxy]]:
    root = tmp_path_factory.mktemp("bucket")
    for f in (LABEL, IMG, *CDR.iterdir()):
        shutil.copy(f, root / f.name)
    with S3Server() as server, FaultProxy(server.endpoint_url) as proxy:
        server.upload("faulty", root, public=True)
        yield server, proxy


def _s3_options(proxy: FaultProxy, **extra: object) -> dict[str, object]:
    return {"anon": True, "client_kwargs": {"endpoint_url": proxy.url, "region_name": "us-east-1"}, **extra}


@pytest.mark.parametrize("faults", [["503"] * 3, ["500", "reset", "503"], ["503", "ok", "503", "ok", "500"]],
                         ids="+".join)
def test_s3_throttling_and_errors_never_change_values(
    s3: tuple[S3Server, FaultProxy], expected: xr.Dataset, faults: list[str],
) -> None:
    _, proxy = s3
    options = _s3_options(proxy)
    proxy.inject(faults)
    got = _load("s3://faulty/" + LABEL.name, sidecar_dirs=["s3://faulty/"], storage_options=options)
    xr.testing.assert_identical(got.drop_attrs(), expected.drop_attrs())
    np.testing.assert_array_equal(got.i_over_f.values, expected.i_over_f.values)
    assert proxy.served == [f for f in faults if f != "ok"]


def test_s3_throttling_that_persists_ends_in_a_bounded_error(
    s3: tuple[S3Server, FaultProxy], caplog: pytest.LogCaptureFixture,
) -> None:
    _, proxy = s3
    options = _s3_options(proxy, config_kwargs={"retries": {"max_attempts": 1, "mode": "standard"}})
    ds = xr.open_dataset("s3://faulty/" + LABEL.name, engine="crism", sidecar_dirs=["s3://faulty/"],
                         storage_options=options)
    proxy.inject(["503"] * 50)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="xarray_crism"), pytest.raises(RemoteReadError, match="attempts"):
        ds.i_over_f.isel(line=0).values  # noqa: B018
    assert time.perf_counter() - started < 30
    assert len([r for r in caplog.records if "attempt" in r.getMessage()]) == MAX_ATTEMPTS - 1
    proxy.inject([])
