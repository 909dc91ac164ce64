"""Zarr conversion: chunking, round trips of real products, safety (w-, resume, kills), catalogs, S3, dask."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

import xarray_crism
from xarray_crism.cloud.conversion import to_zarr
from xarray_crism.cloud.stores import RECORD_KEY
from xarray_crism.cloud.zarr_layout import CHUNK_BYTES, SHARD_BYTES, build_chunking
from xarray_crism.testing import write_cube
from xarray_crism.xr.indexes import set_wavelength_index

from .conftest import CORPUS, TRDRS
from .s3_server import S3Server

RADS = sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))
A = "FRT00014679_01_IF156S_TRR3"
B_L = "FRT0001458F_01_IF156L_TRR3"


def _drop_record(ds: xr.Dataset) -> xr.Dataset:
    """A stored product as the backend gives it: without the conversion record, with the wavelength index set again."""
    ds = ds.drop_attrs(deep=False).assign_attrs({k: v for k, v in ds.attrs.items() if k != RECORD_KEY})
    return set_wavelength_index(ds)


@pytest.mark.parametrize(("dims", "shape", "itemsize", "chunks", "shards"), [
    (("band", "line", "sample"), (438, 480, 640), 4, (438, 32, 32), (438, 32, 288)),  # full-size TRDR L
    (("band", "line", "sample"), (107, 480, 640), 4, (107, 64, 64), (107, 64, 576)),  # full-size TRDR S
    (("line", "sample"), (480, 640), 4, (480, 640), None),  # a DDR backplane: 1.2 MiB, one chunk
    (("band", "y", "x"), (489, 5000, 5000), 4, (489, 32, 32), (489, 32, 256)),  # a big map tile
    (("band", "line", "sample"), (3, 1200, 1648), 2, (3, 512, 512), (3, 1024, 2048)),  # a Mastcam-Z RAD
    (("band",), (438,), 8, (438,), None),  # a coordinate
    (("band", "line", "sample"), (438, 15, 64), 4, (438, 15, 64), None),  # the corpus' crops: 1.7 MiB
])
def test_chunks_hold_whole_spectra_in_tiles_and_shards_stay_bounded(
    dims: tuple[str, ...], shape: tuple[int, ...], itemsize: int, chunks: tuple[int, ...], shards: tuple[int, ...] | None,
) -> None:
    got = build_chunking(dims, shape, itemsize, "spectra")  # the default layout is tested in test_24_zarr_layouts.py
    assert (got.chunks, got.shards) == (chunks, shards)
    assert np.prod(got.chunks) * itemsize <= CHUNK_BYTES
    if got.shards is not None:
        assert all(s % c == 0 for s, c in zip(got.shards, got.chunks, strict=True))
        assert np.prod(got.shards) * itemsize <= SHARD_BYTES * 1.05


@pytest.mark.parametrize("path", [*TRDRS, *RADS], ids=lambda p: p.name[:30])
def test_a_real_product_round_trips_through_plain_xarray(path: Path, tmp_path: Path) -> None:
    store = tmp_path / "out.zarr"
    report = to_zarr(path, store, verify=True)
    assert report.ok and report.count("converted") == 1, report.summary()
    source = xr.open_dataset(path, engine="crism")
    stored = xr.open_zarr(store)  # no plugin
    xr.testing.assert_identical(_drop_record(stored).load(), source.load())
    raw_source = xr.open_dataset(path, engine="crism", mask_and_scale=False)
    raw_stored = xr.open_zarr(store, mask_and_scale=False)
    for name in raw_source.data_vars:
        assert raw_stored[name].dtype == raw_source[name].dtype
        assert raw_stored[name].values.tobytes() == raw_source[name].values.tobytes()  # bit for bit, before masking
    record = stored.attrs[RECORD_KEY]
    assert record["source"] == str(path) and record["version"] == xarray_crism.__version__
    data_file = next(f for f in record["files"] if f["url"].lower().endswith(".img"))
    assert data_file["size"] == Path(data_file["url"]).stat().st_size
    import hashlib

    assert data_file["sha256"] == hashlib.sha256(Path(data_file["url"]).read_bytes()).hexdigest()


def test_the_store_is_zarr3_sharded_blosc_zstd_with_consolidated_metadata(tmp_path: Path) -> None:
    cube = np.random.default_rng(1).random((438, 100, 64), dtype=np.float32)
    product = write_cube(tmp_path, TRDRS[0], "FRT0001458F_01_IF156L_TRR3", cube)
    assert to_zarr(product.label, tmp_path / "out.zarr", verify=True, chunks="spectra").ok
    root = json.loads((tmp_path / "out.zarr" / "zarr.json").read_text())
    assert root["zarr_format"] == 3 and "i_over_f" in root["consolidated_metadata"]["metadata"]
    array = json.loads((tmp_path / "out.zarr" / "i_over_f" / "zarr.json").read_text())
    (codec,) = array["codecs"]
    assert codec["name"] == "sharding_indexed" and codec["configuration"]["chunk_shape"] == [438, 32, 32]
    assert array["chunk_grid"]["configuration"]["chunk_shape"] == [438, 128, 64]  # one shard: 100 lines fit 16 MiB
    blosc = codec["configuration"]["codecs"][-1]
    assert blosc["name"] == "blosc" and blosc["configuration"]["cname"] == "zstd"
    assert blosc["configuration"]["shuffle"] == "shuffle"
    assert array["dimension_names"] == ["band", "line", "sample"]
    assert not (tmp_path / "out.zarr.partial").exists()


def test_a_catalog_with_ddr_and_calibration_becomes_groups_read_by_open_datatree(
    volumes: dict[str, Path], tmp_path: Path,
) -> None:
    cat = xarray_crism.open_catalog(volumes["trdr"], ddr_volume=volumes["ddr"], cdr_volume=volumes["cdr"], sensor="L")
    report = to_zarr(cat, tmp_path / "crism.zarr", verify=True)
    assert report.ok and report.count("converted") == len(cat) == 2, report.summary()
    tree = xr.open_datatree(tmp_path / "crism.zarr", engine="zarr")
    assert sorted(tree.children) == sorted(cat)
    stored = tree[B_L].to_dataset()
    source = cat[B_L].read()
    assert stored.attrs["ddr_product_id"] == "FRT0001458F_01_DE156L_DDR1"
    xr.testing.assert_identical(_drop_record(stored).load(), source.load())


def test_a_product_set_becomes_a_group_hierarchy(tmp_path: Path) -> None:
    report = to_zarr(TRDRS[0], tmp_path / "set.zarr", product_set=True, verify=True)
    assert report.ok, report.summary()
    tree = xr.open_datatree(tmp_path / "set.zarr", engine="zarr")
    source = xr.open_datatree(TRDRS[0], engine="crism")
    assert sorted(tree.children) == sorted(source.children)
    for group in source.children:
        xr.testing.assert_identical(set_wavelength_index(tree[group].to_dataset()).load(), source[group].to_dataset().load())


def test_existing_targets_are_never_overwritten_silently(tmp_path: Path) -> None:
    foreign = tmp_path / "taken.zarr"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    report = to_zarr(TRDRS[0], foreign)
    assert not report.ok and "never deletes files it did not write" in report.results[0].error
    assert (foreign / "notes.txt").read_text() == "mine"
    store = tmp_path / "out.zarr"
    assert to_zarr(TRDRS[0], store).count("converted") == 1
    assert to_zarr(TRDRS[0], store).count("skipped") == 1  # same source, same options: done already
    other = to_zarr(TRDRS[1], store)
    assert not other.ok and str(TRDRS[0]) in other.results[0].error and "mode='w'" in other.results[0].error
    replaced = to_zarr(TRDRS[1], store, mode="w")
    assert replaced.count("converted") == 1 and xr.open_zarr(store).attrs["product_id"] == TRDRS[1].stem.upper()
    with pytest.raises(xarray_crism.CrismError, match="'w-'"):
        to_zarr(TRDRS[0], tmp_path / "x.zarr", mode="a")


def test_one_bad_product_does_not_stop_the_others(tmp_path: Path) -> None:
    for f in TRDRS[0].parent.glob("frt00014679*"):
        (tmp_path / f.name).write_bytes(f.read_bytes()[: 1000] if f.suffix == ".img" else f.read_bytes())
    bad = tmp_path / "frt00014679_01_if156s_trr3.lbl"
    report = to_zarr([TRDRS[0], bad, TRDRS[1]], tmp_path / "many.zarr")
    assert report.count("converted") == 2 and report.count("failed") == 1
    assert "FRT00014679_01_IF156S_TRR3" in report.summary() and "expected" in report.results[1].error
    assert sorted(xr.open_datatree(tmp_path / "many.zarr", engine="zarr").children) == sorted(
        p.stem.upper() for p in TRDRS[:2]
    )


_KILLER = """
import os, signal, sys
import zarr.storage
from xarray_crism.cloud.conversion import to_zarr
limit, count = int(sys.argv[1]), [0]
original = zarr.storage.LocalStore.set
async def set_then_maybe_die(self, key, value, *a, **k):
    await original(self, key, value, *a, **k)
    count[0] += 1
    if count[0] >= limit:
        os.kill(os.getpid(), signal.SIGKILL)
zarr.storage.LocalStore.set = set_then_maybe_die
to_zarr(sys.argv[3:], sys.argv[2], workers=1)
"""


def _tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file of a store; metadata without conversion times (they record when, not what)."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "zarr.json":
            data = json.dumps(_without_times(json.loads(data)), sort_keys=True).encode()
        out[str(path.relative_to(root))] = data
    return out


def _without_times(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _without_times(v) for k, v in obj.items() if k not in ("converted", "run")}  # when, and which run
    if isinstance(obj, list):
        return [_without_times(v) for v in obj]
    return obj


#: Zarr writes of the conversion below (76 with zarr 3.1): kills at fixed points and at 3 random ones, drawn
#: from XARRAY_CRISM_KILL_SEED (a new seed each run unless set; it is in the test ids to replay).
KILL_SEED = int(os.environ.get("XARRAY_CRISM_KILL_SEED", random.SystemRandom().randrange(10**6)))
KILL_POINTS = [1, 7, 23, 41, 60, *random.Random(KILL_SEED).sample(sorted({*range(2, 76)} - {7, 23, 41, 60}), 3)]


@pytest.mark.parametrize("kill_after", KILL_POINTS, ids=[f"{n}-seed{KILL_SEED}" for n in KILL_POINTS])
def test_a_killed_conversion_leaves_nothing_that_looks_complete_and_resumes_to_the_same_store(
    kill_after: int, tmp_path: Path,
) -> None:
    sources = [str(p) for p in [*TRDRS, *RADS[:2]]]
    reference = tmp_path / "reference.zarr"
    assert to_zarr(sources, reference).ok
    store = tmp_path / "killed.zarr"
    run = subprocess.run([sys.executable, "-c", _KILLER, str(kill_after), str(store), *sources], capture_output=True)
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()[-2000:]
    finished = [p.name for p in store.iterdir() if p.is_dir()] if store.exists() else []  # products, not the root zarr.json
    for name in finished:  # whatever is visible is complete
        assert RECORD_KEY in json.loads((store / name / "zarr.json").read_text())["attributes"]
    assert len(finished) <= len(sources)  # a kill after the last product, while the root is written, leaves all done
    report = to_zarr(sources, store)
    assert report.ok and report.count("skipped") == len(finished), report.summary()
    assert _tree_bytes(store) == _tree_bytes(reference)
    assert not (tmp_path / "killed.zarr.partial").exists()


def test_catalog_conversion_to_s3_from_the_command_line_resumes_and_verifies(
    volumes: dict[str, Path], tmp_path: Path,
) -> None:
    with S3Server() as s3:
        s3.client().create_bucket(Bucket="out")
        options = s3.storage_options(anon=False)
        cmd = [
            sys.executable, "-m", "xarray_crism.cli", "convert", "--catalog", str(volumes["trdr"]),
            "--ddr-volume", str(volumes["ddr"]), "--cdr-volume", str(volumes["cdr"]), "--observation-id", "0001458F",
            "s3://out/crism.zarr", "--storage-options", json.dumps(options), "--verify",
        ]
        first = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"})
        assert first.returncode == 0, first.stderr + first.stdout
        assert "2 converted, 0 skipped" in first.stdout and "product" in first.stderr  # the progress bar
        again = subprocess.run([*cmd, "--no-progress"], capture_output=True, text=True)
        assert again.returncode == 0 and "0 converted, 2 skipped" in again.stdout and again.stderr == ""
        tree = xr.open_datatree("s3://out/crism.zarr", engine="zarr", storage_options=options)
        assert sorted(tree.children) == ["FRT0001458F_01_IF156L_TRR3", "FRT0001458F_01_IF156S_TRR3"]
        local = xr.open_dataset(volumes["trdr"] / "trdr/2009/2009_226/frt0001458f/frt0001458f_01_if156l_trr3.lbl",
                                engine="crism", mask_and_scale=False)
        decoded = local.i_over_f.where(local.i_over_f != 65535).values
        np.testing.assert_array_equal(tree[B_L].to_dataset().i_over_f.values, decoded)
        keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket="out")["Contents"]]
        assert not any(".partial" in k for k in keys)


def test_an_interrupted_publish_to_s3_is_redone(tmp_path: Path) -> None:
    with S3Server() as s3:
        s3.client().create_bucket(Bucket="out")
        options = s3.storage_options(anon=False)
        import fsspec

        fs = fsspec.filesystem("s3", **options)
        assert to_zarr(TRDRS[0], "s3://out/p.zarr", storage_options=options).ok
        fs.copy("out/p.zarr", "out/p.zarr.partial/_root", recursive=True)  # as if killed while publishing:
        fs.rm("out/p.zarr/zarr.json")  # the partial copy remains, the root document is not there yet
        report = to_zarr(TRDRS[0], "s3://out/p.zarr", storage_options=options, verify=True)
        assert report.count("converted") == 1, report.summary()
        assert not fs.exists("out/p.zarr.partial/_root")


def test_many_products_convert_on_a_distributed_cluster(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    sources = [*TRDRS, *RADS]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        report = to_zarr(sources, tmp_path / "d.zarr", scheduler=client, verify=True)
    assert report.ok and report.count("converted") == len(sources), report.summary()
    for path in sources:
        stored = xr.open_zarr(tmp_path / "d.zarr", group=path.stem.upper())
        xr.testing.assert_identical(_drop_record(stored).load(), xr.open_dataset(path, engine="crism").load())


def test_conversion_streams_shard_by_shard_with_bounded_memory(tmp_path: Path) -> None:
    cube = np.random.default_rng(0).random((438, 240, 640), dtype=np.float32)  # 270 MB
    product = write_cube(tmp_path, TRDRS[0], "FRT00099999_07_IF168L_TRR3", cube)
    del cube
    script = (
        "import resource, sys\nfrom xarray_crism.cloud.conversion import to_zarr\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "assert to_zarr(sys.argv[1], sys.argv[2], workers=2, checksums=False).ok\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)"
    )
    run = subprocess.run([sys.executable, "-c", script, str(product.label), str(tmp_path / "big.zarr")],
                         capture_output=True, text=True, check=True)
    growth_kib = int(run.stdout.split()[-1])
    assert growth_kib * 1024 < 0.5 * 438 * 240 * 640 * 4, growth_kib  # ~110 MiB for a 257 MiB cube


def test_zarr_stores_reopen_with_zarr_alone(tmp_path: Path) -> None:
    to_zarr(RADS[0], tmp_path / "r.zarr")
    group = zarr.open_group(tmp_path / "r.zarr", mode="r")
    raw = xr.open_dataset(RADS[0], engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(group["radiance"][:], raw.radiance.values)
    assert group["radiance"].attrs["scale_factor"] == raw.radiance.attrs["scale_factor"]


def test_the_shipped_catalog_converts_from_the_command_line_on_a_scheduler_address(
    volumes: dict[str, Path], tmp_path: Path,
) -> None:
    from distributed import LocalCluster

    from .http_server import RangeServer
    from .test_49_remote_catalogs import CATALOGS, MIRROR

    for where, kind in MIRROR.items():
        (tmp_path / "www" / where).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "www" / where).symlink_to(volumes[kind], target_is_directory=True)
    with RangeServer(tmp_path / "www") as server, \
            LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        run = subprocess.run([
            sys.executable, "-m", "xarray_crism.cli", "convert", "--catalog", str(CATALOGS / "crism_trdr.yaml"),
            "--param", f"root={server.url}/mro", "--entry", "mrocr_2104", "--entry", "mrocr_2199",
            "--observation-id", "00014679", "--scheduler", cluster.scheduler_address, "--no-progress",
            str(tmp_path / "obs.zarr"),
        ], capture_output=True, text=True)
    assert run.returncode == 1, run.stderr  # mrocr_2199 is no entry: reported, the rest converted
    assert "1 converted, 0 skipped (already done), 1 failed" in run.stdout and "FAILED mrocr_2199" in run.stdout
    stored = xr.open_datatree(tmp_path / "obs.zarr", engine="zarr")[A].to_dataset()
    assert stored.attrs[RECORD_KEY]["source"].startswith(server.url) and stored.attrs["ddr_product_id"].startswith("FRT00014679")
    local = xr.open_dataset(volumes["trdr"] / "trdr/2009/2009_228/frt00014679/frt00014679_01_if156s_trr3.lbl",
                            engine="crism", mask_and_scale=False)
    raw = xr.open_zarr(tmp_path / "obs.zarr", group=A, mask_and_scale=False)
    assert raw.i_over_f.values.tobytes() == local.i_over_f.values.tobytes()


def test_verify_reports_every_difference_and_a_differing_product_is_not_trusted(tmp_path: Path) -> None:
    store = tmp_path / "v.zarr"
    assert to_zarr(TRDRS[0], store).ok
    array = zarr.open_array(store / "i_over_f", mode="r+")
    array[5, 3, 7] = np.float32(0.125)  # one value changed behind the converter's back
    group = zarr.open_group(store, mode="r+")
    group["wavelength"].attrs["units"] = "um"
    report = to_zarr(TRDRS[0], store, verify=True)
    (result,) = report.results
    assert result.status == "failed" and "2 difference(s) in the store" in result.error
    assert "/: i_over_f[0:438, 0:15, 0:64]: 1 value(s) differ" in result.differences
    assert "/: wavelength.attrs['units']: 'nm' became 'um'" in result.differences


def test_sources_may_be_generators_but_not_duplicates_or_mixtures(tmp_path: Path) -> None:
    report = to_zarr((p for p in TRDRS), tmp_path / "g.zarr")
    assert report.count("converted") == len(TRDRS)
    with pytest.raises(xarray_crism.CrismError, match="one source per product"):
        to_zarr([TRDRS[0], tmp_path / TRDRS[0].name], tmp_path / "d.zarr")
    from xarray_crism.cloud.convert import Job

    with pytest.raises(xarray_crism.CrismError, match="one source per product"):
        to_zarr([Job("X", str(TRDRS[0])), Job("X", str(TRDRS[1]))], tmp_path / "j.zarr")
    with pytest.raises(xarray_crism.CrismError, match="not both"):
        to_zarr([Job("X", str(TRDRS[0])), TRDRS[1]], tmp_path / "m.zarr")


def test_products_never_land_in_a_foreign_directory_or_a_bucket_root(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(xarray_crism.StoreExistsError, match="new or empty directory"):
        to_zarr(TRDRS, foreign)
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    with pytest.raises(xarray_crism.CrismError, match="a prefix inside a bucket"):
        to_zarr(TRDRS, "s3://some-bucket", storage_options={"anon": True})
    failed = to_zarr([tmp_path / "missing_if156s_trr3.lbl"], tmp_path / "none.zarr")
    assert failed.count("failed") == 1 and not (tmp_path / "none.zarr").exists()  # nothing written, no empty store
