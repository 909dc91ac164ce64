"""SHA-256 provenance from the bytes the conversion reads: the ordered hasher, slabs, and the records it gives."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import numpy as np
import pytest
import zarr

from xarray_crism.cloud import hashing
from xarray_crism.cloud.conversion import to_zarr
from xarray_crism.cloud.hashing import OrderedHasher, find_disk_array, read_slab, write_in_slabs
from xarray_crism.cloud.stores import RECORD_KEY
from xarray_crism.io.sources import open_source
from xarray_crism.model.pipeline import open_product
from xarray_crism.testing import write_cube

from .conftest import CORPUS, TRDRS

MASTCAMZ = sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))
IMG = TRDRS[0].with_suffix(".img")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pieces_of(data: bytes, seed: int, skip: float = 0.0) -> list[tuple[int, bytes]]:
    """The file cut into random pieces (some skipped, some overlapping the one before)."""
    rng, out, pos = random.Random(seed), [], 0
    while pos < len(data):
        n = rng.randint(1, 70_000)
        start = max(0, pos - rng.choice([0, 0, 0, 100]))
        if rng.random() >= skip:
            out.append((start, data[start : pos + n]))
        pos += n
    return out


@pytest.mark.parametrize("seed", range(4))
def test_pieces_in_file_order_with_gaps_and_overlaps_give_the_file_sha256(seed: int) -> None:
    data = IMG.read_bytes()
    hasher = OrderedHasher(open_source(IMG, None), len(data))
    fed = pieces_of(data, seed, skip=0.2)
    for offset, piece in fed:
        hasher.feed(offset, piece)
    assert hasher.finish() == sha256_of(IMG)
    covered = np.zeros(len(data), dtype=bool)
    for offset, piece in fed:
        covered[offset : offset + len(piece)] = True
    assert hasher.reread == int((~covered).sum())  # only what no piece covered is read again


@pytest.mark.parametrize(("seed", "limit"), [(0, 1 << 30), (1, 1 << 30), (2, 100_000), (3, 0)])
def test_pieces_out_of_order_are_kept_within_the_limit_and_read_again_beyond(
    seed: int, limit: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hashing, "WAIT_SECONDS", 0.0)  # one thread here: nobody would bring the bytes before
    data = IMG.read_bytes()
    hasher = OrderedHasher(open_source(IMG, None), len(data), pending_bytes=limit)
    hasher.expect(0, len(data))
    fed = pieces_of(data, seed)
    random.Random(seed).shuffle(fed)
    for offset, piece in fed:
        hasher.feed(offset, piece)
    assert hasher.finish() == sha256_of(IMG)
    assert (hasher.reread == 0) if limit > len(data) else (0 < hasher.reread <= len(data))


def test_bytes_no_slab_brings_are_read_at_once_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "WAIT_SECONDS", 0.01)  # a wait that timed out would show as _waiting False
    data = IMG.read_bytes()
    header, middle = 1000, len(data) // 2
    hasher = OrderedHasher(open_source(IMG, None), len(data))
    hasher.expect(header, middle)  # like an attached header before the image, then a second object
    for offset in range(header, middle, 4096):
        hasher.feed(offset, data[offset : min(offset + 4096, middle)])
    hasher.feed(middle + 10, data[middle + 10 :])
    assert hasher.reread == header + 10 and hasher._waiting  # the header and the gap read, nothing waited for
    assert hasher.finish() == sha256_of(IMG)


def test_a_slab_is_the_backend_read_bit_for_bit_line_interleaved_and_big_endian() -> None:
    for path in (TRDRS[0], MASTCAMZ[0]):
        product = open_product(path)
        disks = [d for d in map(find_disk_array, (v.data for v in product.variables.values())) if d is not None]
        assert disks, path
        for disk in disks:
            rows = disk.layout.storage_shape[0]
            for a, b in ((0, rows), (rows // 2, rows), (0, max(1, rows // 3))):
                axis = disk.layout.dims.index(disk.layout.storage_dims[0])
                key = tuple(slice(a, b) if i == axis else slice(None) for i in range(len(disk.shape)))
                got, want = read_slab(disk, (a, b), None), disk.read(key)
                assert got.dtype == want.dtype and got.dtype.isnative
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_slabs_written_by_threads_are_the_array_and_hash_the_file_in_one_read(threads: int) -> None:
    product = open_product(TRDRS[0])
    (disk,) = [d for d in map(find_disk_array, (v.data for v in product.variables.values())) if d is not None]
    size = IMG.stat().st_size
    hasher = OrderedHasher(disk.source, size)
    target = zarr.create_array({}, shape=disk.shape, chunks=(8, 3, 16), dtype=disk.dtype)  # slabs: whole chunks
    write_in_slabs(disk, target, 3, hasher, threads)
    np.testing.assert_array_equal(target[...], disk.read(tuple(slice(None) for _ in disk.shape)))
    assert hasher.finish() == sha256_of(IMG)
    assert hasher.reread == size - disk.layout.nbytes  # the bytes outside the cube only


@pytest.mark.parametrize("workers", [1, 2])
def test_the_record_holds_every_file_sha256_and_the_store_reads_back(tmp_path: Path, workers: int) -> None:
    cube = np.random.default_rng(9).random((438, 70, 100), dtype=np.float32)
    label = write_cube(tmp_path, TRDRS[0], "FRT0001458F_01_IF156L_TRR3", cube).label
    report = to_zarr(label, tmp_path / "out.zarr", workers=workers, verify=True)
    assert report.ok, report.summary()
    record = json.loads((tmp_path / "out.zarr" / "zarr.json").read_text())["attributes"][RECORD_KEY]
    assert [Path(f["url"]).name for f in record["files"]] == [label.name, label.with_suffix(".img").name]
    assert all(f["sha256"] == sha256_of(Path(f["url"])) for f in record["files"])
    assert to_zarr(label, tmp_path / "out.zarr").count("skipped") == 1  # the recorded sums match the files again
