"""Layer 9: concurrency. 32 threads on one Dataset, 32 threads opening their own, dask's threads and
processes and a 4-process distributed cluster read the same products (local and over HTTP) and get
exactly what one sequential read gets. Reads open their own file handle (local) or use fsspec's
thread-safe async session (remote), so no handle is shared; none is left open either."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import dask
import numpy as np
import pytest
import xarray as xr

from .conftest import CORPUS, CRISM
from .http_server import RangeServer

TRDR = CRISM / "trdr" / "frt00014679_01_if156s_trr3.lbl"
MASTCAMZ = sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))[1]
THREADS = 32


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, dict[str, object]]]]:
    """name -> (location, open_dataset keywords): local TRDR and Mastcam-Z, and the TRDR over HTTP."""
    root = tmp_path_factory.mktemp("www")
    for f in (TRDR, TRDR.with_suffix(".img"), *(CRISM / "cdr").iterdir()):
        shutil.copy(f, root / f.name)
    with RangeServer(root) as server:
        yield {
            "trdr": (str(TRDR), {"sidecar_dirs": [str(CRISM / "cdr")]}),
            "mastcamz": (str(MASTCAMZ), {}),
            "trdr_http": (f"{server.url}/{TRDR.name}", {"sidecar_dirs": [server.url]}),
        }


def _open(product: tuple[str, dict[str, object]], **kwargs: object) -> xr.Dataset:
    location, options = product
    return xr.open_dataset(location, engine="crism", mask_and_scale=False, **options, **kwargs)  # type: ignore[arg-type]


def _reference(product: tuple[str, dict[str, object]]) -> xr.Dataset:
    with _open(product) as ds:
        return ds.load()


def _windows(ds: xr.Dataset, seed: int, n: int = 12) -> list[dict[str, slice]]:
    """Random windows (and single spectra) over every dimension of the main variable."""
    rng = random.Random(seed)
    var = ds[next(iter(ds.data_vars))]
    out = []
    for _ in range(n):
        window = {}
        for dim, size in var.sizes.items():
            start = rng.randrange(size)
            window[dim] = slice(start, start + rng.choice([1, 2, 7, size]))
        out.append(window)
    return out


def _check_windows(ds: xr.Dataset, expected: xr.Dataset, seed: int) -> int:
    name = next(iter(expected.data_vars))
    for window in _windows(expected, seed):
        np.testing.assert_array_equal(ds[name].isel(window).values, expected[name].isel(window).values)
    return seed


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _run_threads(work: Callable[[int], int]) -> list[int]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, range(THREADS)))


@pytest.mark.parametrize("name", ["trdr", "mastcamz", "trdr_http"])
def test_32_threads_on_one_dataset(products: dict[str, tuple[str, dict[str, object]]], name: str) -> None:
    expected = _reference(products[name])
    before = _open_fds()
    with _open(products[name]) as ds:
        assert sorted(_run_threads(lambda seed: _check_windows(ds, expected, seed))) == list(range(THREADS))
    assert _open_fds() <= before + (8 if name.endswith("http") else 0), "file handles left open"


@pytest.mark.parametrize("name", ["trdr", "mastcamz", "trdr_http"])
def test_32_threads_each_opening_the_product(products: dict[str, tuple[str, dict[str, object]]], name: str) -> None:
    expected = _reference(products[name])

    def work(seed: int) -> int:
        with _open(products[name]) as ds:
            xr.testing.assert_identical(ds.drop_vars(list(ds.data_vars)), expected.drop_vars(list(expected.data_vars)))
            return _check_windows(ds, expected, seed)

    assert len(_run_threads(work)) == THREADS


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
@pytest.mark.parametrize("name", ["trdr", "mastcamz", "trdr_http"])
def test_dask_threads_and_4_processes(
    products: dict[str, tuple[str, dict[str, object]]], name: str, scheduler: str,
) -> None:
    expected = _reference(products[name])
    with _open(products[name], chunks={"line": 1}) as ds:
        var = next(iter(ds.data_vars))
        assert ds[var].data.npartitions > 4
        workers = THREADS if scheduler == "threads" else 4
        with dask.config.set(scheduler=scheduler, num_workers=workers):
            got = ds.compute()
    xr.testing.assert_identical(got, expected)


def test_a_4_process_distributed_cluster(products: dict[str, tuple[str, dict[str, object]]]) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=4, threads_per_worker=2, processes=True, dashboard_address=None,
                                  memory_limit="1GiB") as cluster, distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 4
        for name in ("trdr", "mastcamz", "trdr_http"):
            expected = _reference(products[name])
            with _open(products[name], chunks={"line": 2}) as ds:
                got = ds.compute()
            xr.testing.assert_identical(got, expected)
            var = next(iter(expected.data_vars))
            spectra = [ds[var].isel(line=i % ds.sizes["line"], sample=i) for i in range(0, 40, 3)]
            sums = client.compute([s.sum() for s in spectra], sync=True)
            assert [float(s) for s in sums] == [float(expected[var].isel(line=i % ds.sizes["line"], sample=i).sum())
                                                for i in range(0, 40, 3)]
