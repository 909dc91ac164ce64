"""Writers that must not lose or mislabel data (issue 18, findings 3, 5, 6 and 7).

- Two converters started together on one target: each run publishes a store that opens with the
  right values, or fails with a package error (the lock); never a broken store (local and S3).
- ``mode="w"`` (``--overwrite``) deletes only what the converter wrote, and refuses otherwise.
- A product whose source changed since it was converted is reported stale, not skipped as done.
- A catalog entry whose index row points at another product's label is refused, and
  ``convert --catalog`` reports it as a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism import LabelValueError, to_zarr

from .conftest import CRISM
from .s3_server import S3Server

TRDR = CRISM / "trdr" / "frt00014679_01_if156s_trr3.lbl"  # VNIR, 15 x 64 x 107: a small product
SIDECARS = [str(CRISM / "cdr")]
TRIALS_LOCAL, TRIALS_S3 = 6, 3
LOCK_REFUSAL = "no other conversion writing this product"

#: One converter process: imports, says "ready", waits for the go file, converts, prints its results.
_RACER = """
import json, os, sys, time
from xarray_crism import to_zarr
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.001)
report = to_zarr(sys.argv[2], sys.argv[3], sidecar_dirs=[sys.argv[4]], storage_options=json.loads(sys.argv[5]) or None)
print(json.dumps([[r.status, r.error] for r in report.results]), flush=True)
"""


def _values(ds: xr.Dataset) -> dict[str, np.ndarray]:
    return {str(name): var.values for name, var in ds.variables.items()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """The values of one sequential conversion of TRDR."""
    store = tmp_path_factory.mktemp("reference") / "ref.zarr"
    assert to_zarr(TRDR, store, sidecar_dirs=SIDECARS).ok
    with xr.open_zarr(store) as ds:
        return _values(ds)


def _race(store: str, go: Path, options: dict[str, object]) -> list[list[list[str]]]:
    """Start two converters on ``store``, release them together, return each one's results."""
    command = [sys.executable, "-c", _RACER, str(go), str(TRDR), store, SIDECARS[0], json.dumps(options)]
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    racers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    for racer in racers:
        assert racer.stdout is not None and racer.stdout.readline().strip() == "ready"
    go.touch()
    outputs = [racer.communicate(timeout=600) for racer in racers]
    for racer, (_, err) in zip(racers, outputs, strict=True):
        assert racer.returncode == 0, err[-2000:]
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


def _check_race(results: list[list[list[str]]], opened: xr.Dataset, reference: dict[str, np.ndarray]) -> None:
    statuses = sorted(status for ((status, _),) in results)
    assert statuses in (["converted", "failed"], ["converted", "skipped"]), results
    for ((status, error),) in results:
        assert status != "failed" or LOCK_REFUSAL in error, error  # a package error: the lock's
    values = _values(opened)
    assert values.keys() == reference.keys()
    for name, expected in reference.items():
        np.testing.assert_array_equal(values[name], expected, err_msg=name)


def test_two_local_converters_on_one_target_never_publish_a_broken_store(
    tmp_path: Path, reference: dict[str, np.ndarray],
) -> None:
    for trial in range(TRIALS_LOCAL):
        store = tmp_path / f"race{trial}.zarr"
        results = _race(str(store), tmp_path / f"go{trial}", {})
        with xr.open_zarr(store) as opened:
            _check_race(results, opened, reference)
        assert not Path(f"{store}.partial").exists()  # no partial product, no lock left behind


def test_two_s3_converters_on_one_target_never_publish_a_broken_store(
    tmp_path: Path, reference: dict[str, np.ndarray],
) -> None:
    with S3Server() as s3:
        s3.client().create_bucket(Bucket="out")
        options = s3.storage_options(anon=False)
        for trial in range(TRIALS_S3):
            store = f"s3://out/race{trial}.zarr"
            results = _race(store, tmp_path / f"go{trial}", options)
            with xr.open_zarr(store, storage_options=options) as opened:
                _check_race(results, opened, reference)
        keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket="out")["Contents"]]
        assert not any(".partial" in k for k in keys)


def test_a_lock_held_by_another_run_refuses_and_a_killed_runs_lock_is_named(tmp_path: Path) -> None:
    from xarray_crism.cloud.locks import hold_product_lock
    from xarray_crism.cloud.stores import open_store

    store = open_store(tmp_path / "held.zarr")
    with hold_product_lock(store, ""):
        report = to_zarr(TRDR, store.root, sidecar_dirs=SIDECARS)
        assert report.count("failed") == 1 and LOCK_REFUSAL in report.results[0].error
    assert to_zarr(TRDR, store.root, sidecar_dirs=SIDECARS).count("converted") == 1  # released
    with S3Server() as s3:
        s3.client().create_bucket(Bucket="out")
        options = s3.storage_options(anon=False)
        s3.client().put_object(Bucket="out", Key="p.zarr.partial/_root.lock", Body=b'{"pid": 4242, "host": "gone"}')
        report = to_zarr(TRDR, "s3://out/p.zarr", sidecar_dirs=SIDECARS, storage_options=options)
        (result,) = report.results
        assert result.status == "failed" and "pid 4242 on gone" in result.error
        assert "delete s3://out/p.zarr.partial/_root.lock" in result.error


# --- 6: --overwrite removes only what the converter wrote ----------------------------------------


def _foreign_directory(tmp_path: Path) -> Path:
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    (mine / "sub" / "data.bin").write_bytes(b"\x00\x01")
    return mine


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("mode", ["w", "w-"])
def test_a_conversion_onto_unrelated_files_deletes_nothing(tmp_path: Path, mode: str) -> None:
    mine = _foreign_directory(tmp_path)
    report = to_zarr(TRDR, mine, mode=mode, sidecar_dirs=SIDECARS)
    (result,) = report.results
    assert result.status == "failed" and "never deletes files it did not write" in result.error
    assert "overwrite" not in result.error and "mode='w'" not in result.error  # the hint does not suggest it
    assert _files(mine) == ["notes.txt", "sub/data.bin"]
    assert not (tmp_path / "mine.partial").exists()


def test_the_command_line_hint_for_a_refused_conversion_does_not_suggest_overwrite(tmp_path: Path) -> None:
    mine = _foreign_directory(tmp_path)
    for extra in ([], ["--overwrite"]):
        run = subprocess.run(
            [sys.executable, "-m", "xarray_crism.cli", "convert", str(TRDR), str(mine), "--sidecar-dir", SIDECARS[0],
             "--no-progress", *extra], capture_output=True, text=True,
        )
        assert run.returncode == 1, run.stderr
        assert "choose another store" in run.stdout and "--overwrite" not in run.stdout, run.stdout
        assert _files(mine) == ["notes.txt", "sub/data.bin"]


def test_overwrite_refuses_a_product_holding_foreign_files_and_replaces_a_clean_one(tmp_path: Path) -> None:
    store = tmp_path / "p.zarr"
    assert to_zarr(TRDR, store, sidecar_dirs=SIDECARS).count("converted") == 1
    (store / "README.txt").write_text("my notes on this product")
    (result,) = to_zarr(TRDR, store, mode="w", sidecar_dirs=SIDECARS).results
    assert result.status == "failed" and "README.txt" in result.error, result.error
    assert (store / "README.txt").read_text() == "my notes on this product" and (store / "zarr.json").exists()
    (store / "README.txt").unlink()
    assert to_zarr(TRDR, store, mode="w", sidecar_dirs=SIDECARS).count("converted") == 1


def test_overwrite_never_writes_products_into_a_foreign_directory(tmp_path: Path) -> None:
    mine = _foreign_directory(tmp_path)
    with pytest.raises(xarray_crism.StoreExistsError, match="never writes into, or deletes from"):
        to_zarr([TRDR, CRISM / "trdr" / "frt0001458f_01_if156s_trr3.lbl"], mine, mode="w", sidecar_dirs=SIDECARS)
    assert _files(mine) == ["notes.txt", "sub/data.bin"]


# --- 7: a stale store is not "already done" ------------------------------------------------------


def _source_copy(tmp_path: Path) -> Path:
    for f in (CRISM / "trdr").glob("frt00014679_01_if156s_trr3.*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / TRDR.name


@pytest.mark.parametrize("checksums", [True, False])
def test_a_changed_source_is_reported_stale_then_reconverted_with_overwrite(tmp_path: Path, checksums: bool) -> None:
    label = _source_copy(tmp_path)
    img = label.with_suffix(".img")
    store = tmp_path / "p.zarr"
    assert to_zarr(label, store, sidecar_dirs=SIDECARS, checksums=checksums).count("converted") == 1
    data = bytearray(img.read_bytes())
    first = int(np.flatnonzero(np.frombuffer(bytes(data[:4096]), "<f4") != 65535)[0]) * 4  # a scene value
    data[first : first + 4] = np.float32(7.25).tobytes()  # same size, new modification time
    img.write_bytes(bytes(data))
    os.utime(img, ns=(img.stat().st_atime_ns, img.stat().st_mtime_ns + 10**9))
    (result,) = to_zarr(label, store, sidecar_dirs=SIDECARS, checksums=checksums).results
    assert result.status == "failed" and "stale" in result.error and str(img) in result.error, result.error
    with xr.open_zarr(store) as ds:
        assert int((ds.i_over_f.values == 7.25).sum()) == 0  # the old product is kept, and said stale
    assert to_zarr(label, store, mode="w", sidecar_dirs=SIDECARS, checksums=checksums).count("converted") == 1
    with xr.open_zarr(store) as ds:
        assert int((ds.i_over_f.values == 7.25).sum()) == 1
    assert to_zarr(label, store, sidecar_dirs=SIDECARS, checksums=checksums).count("skipped") == 1


def test_a_touched_source_with_the_same_bytes_is_still_done_when_checksummed(tmp_path: Path) -> None:
    label = _source_copy(tmp_path)
    store = tmp_path / "p.zarr"
    assert to_zarr(label, store, sidecar_dirs=SIDECARS).count("converted") == 1
    img = label.with_suffix(".img")
    os.utime(img, ns=(img.stat().st_atime_ns, img.stat().st_mtime_ns + 10**9))
    assert to_zarr(label, store, sidecar_dirs=SIDECARS).count("skipped") == 1
    record = json.loads((store / "zarr.json").read_text())["attributes"]["xarray_crism"]
    assert {f["url"] for f in record["files"]} >= {str(label), str(img)}
    assert all(isinstance(f["modified"], str) and f["size"] > 0 for f in record["files"])


# --- 3: catalog entries are checked against the label they open -----------------------------------


def _swapped_volume(volumes: dict[str, Path], tmp_path: Path) -> Path:
    """The TRDR volume with the FILE_SPECIFICATION_NAME of two rows swapped."""
    root = tmp_path / "mrocr_2104"
    shutil.copytree(volumes["trdr"], root)
    label, table = root / "index" / "cumindex.lbl", root / "index" / "cumindex.tab"
    start = int(re.search(r'"FILE_SPECIFICATION_NAME"\s+DATA_TYPE = \w+\s+START_BYTE = (\d+)', label.read_text())[1]) - 1
    rows = table.read_bytes().split(b"\r\n")
    a, b = (next(i for i, r in enumerate(rows) if name in r) for name in (b"FRT0001458F_01_IF156S", b"FRT00014679_01_IF156S"))
    spec_a, spec_b = rows[a][start : start + 64], rows[b][start : start + 64]
    rows[a], rows[b] = rows[a].replace(spec_a, spec_b), rows[b].replace(spec_b, spec_a)
    table.write_bytes(b"\r\n".join(rows))
    return root


def test_a_catalog_entry_opening_another_products_label_is_refused(volumes: dict[str, Path], tmp_path: Path) -> None:
    cat = xarray_crism.open_catalog(_swapped_volume(volumes, tmp_path))
    with pytest.raises(LabelValueError) as info:
        cat["FRT0001458F_01_IF156S_TRR3"].read()
    assert (info.value.keyword, info.value.value) == ("PRODUCT_ID", "FRT00014679_01_IF156S_TRR3")
    assert "FRT0001458F_01_IF156S_TRR3" in info.value.expected
    assert cat["FRT0001458F_01_IF156L_TRR3"].read().attrs["product_id"] == "FRT0001458F_01_IF156L_TRR3"


def test_convert_catalog_reports_mislabelled_entries_as_failures(volumes: dict[str, Path], tmp_path: Path) -> None:
    root = _swapped_volume(volumes, tmp_path)
    store = tmp_path / "cat.zarr"
    run = subprocess.run(
        [sys.executable, "-m", "xarray_crism.cli", "convert", "--catalog", str(root), "--observation-id", "0001458F",
         str(store), "--no-progress"], capture_output=True, text=True,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 converted, 0 skipped (already done), 1 failed" in run.stdout, run.stdout
    assert "FAILED FRT0001458F_01_IF156S_TRR3" in run.stdout and "PRODUCT_ID" in run.stdout
    assert sorted(p.name for p in store.iterdir() if p.is_dir()) == ["FRT0001458F_01_IF156L_TRR3"]
    with xr.open_zarr(store / "FRT0001458F_01_IF156L_TRR3") as ds:
        assert ds.attrs["product_id"] == "FRT0001458F_01_IF156L_TRR3"
