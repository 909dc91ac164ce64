"""One product (or product set) to one Zarr group: open raw, record provenance, write, publish, verify.

A :class:`Job` says what to convert and where in the store; :func:`convert_job` runs it and never
raises: it returns a :class:`JobResult` (``converted``, ``skipped`` or ``failed`` with the error),
so that one bad product does not stop a catalog. Running many jobs on dask is
:mod:`xarray_crism.cloud.conversion`.

Values are written as stored in the file (no masking, no scaling): ``_FillValue``,
``scale_factor``/``add_offset`` and ``missing_value`` are attributes, which any CF reader
(``xr.open_zarr``) applies, so the decoded values equal the backend's and the raw values are bit
for bit the file's.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dask
import xarray as xr
import zarr
from zarr.codecs import BloscCodec

from ..archive.catalog import check_entry_product
from ..errors import CrismError, StoreExistsError
from ..formats.conventions import build_masked_constants
from ..io.sources import Source
from ..model.pipeline import open_product
from ..model.product import DiskArray, Product
from ..model.product_sets import find_product_set
from ..model.read import read_product
from ..version import __version__
from ..xr.dataset import build_dataset
from .hashing import SLAB_LIMIT_BYTES, OrderedHasher, find_disk_array, is_in_process, slab_bytes, write_in_slabs
from .locks import ProductLock, check_own_partial, hold_product_lock
from .provenance import build_record, find_changed_files, find_source_files, read_file_facts
from .stores import RECORD_KEY, Store, build_zarr_store, find_foreign_files, publish, read_record, remove
from .zarr_layout import COMPRESSOR, DEFAULT_LAYOUT, build_chunking

__all__ = [
    "DATASET_NOTE", "Job", "JobResult", "build_encoding", "check_mode", "convert_job", "describe_error", "quiet_zarr",
    "read_job_groups", "read_job_product",
]


@dataclass(frozen=True)
class Job:
    """Convert the product at ``url`` (``product_set``: its whole set) into group ``name`` ("" = root)."""

    name: str
    url: str
    ddr: str | None = None
    sidecar_dirs: tuple[str, ...] = ()
    storage_options: dict[str, Any] | None = field(default=None, hash=False)
    bayer: str = "raw"
    product_set: bool = False
    chunks: str = DEFAULT_LAYOUT
    #: The PRODUCT_ID the label must have (a catalog entry's name); None: any.
    product_id: str | None = None
    #: A Dataset to write as it is held (``url`` is then its ``encoding["source"]``, or ""); see :data:`DATASET_NOTE`.
    dataset: xr.Dataset | None = field(default=None, hash=False, compare=False, repr=False)

    @property
    def options(self) -> dict[str, Any]:
        """The options that shape the output, kept in the conversion record."""
        if self.dataset is not None:
            return {"from_dataset": True, "chunks": self.chunks}
        return {
            "ddr": self.ddr, "sidecar_dirs": list(self.sidecar_dirs), "bayer": self.bayer, "product_set": self.product_set,
            "chunks": self.chunks,
        }


#: The record of a product written from a Dataset (``to_zarr(ds, store)``) says this, and lists no files.
DATASET_NOTE = (
    "written from an xarray.Dataset as it was held (values as decoded in memory, its own attributes), "
    "not re-read from the source files: no file sizes or checksums; 'source' is the Dataset's "
    "encoding['source'] when it has one. Convert the product's path instead to record its files."
)


@dataclass
class Feeds:
    """What the writing feeds while it reads: each file's hasher (by URL), the disk arrays read in slabs (by variable)."""

    hashers: dict[str, OrderedHasher] = field(default_factory=dict)
    arrays: dict[str, DiskArray] = field(default_factory=dict)

    def slabs(self, scheduler: str | None) -> dict[str, tuple[DiskArray, OrderedHasher | None]]:
        """The root group's variables to read in slabs (none unless the shards run in this process)."""
        if not is_in_process(scheduler):
            return {}
        return {name: (disk, self.hashers.get(disk.source.url)) for name, disk in self.arrays.items()}

    def finish(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record with each file's SHA-256 (what was not read while writing is read now)."""
        files = [{**fact, "sha256": self.hashers[fact["url"]].finish()} for fact in record["files"]]
        return {**record, "files": files}


@dataclass
class JobResult:
    """What became of one job: ``status`` is ``converted``, ``skipped`` (already done) or ``failed``."""

    name: str
    url: str
    status: str
    error: str = ""
    seconds: float = 0.0
    differences: list[str] = field(default_factory=list)


def convert_job(
    job: Job, store: Store, *, mode: str = "w-", checksums: bool = True, verify: bool = False, scheduler: str | None = None,
) -> JobResult:
    """Run ``job`` into ``store``; errors are caught and returned in the result.

    With ``verify``, a new product is compared with its source before it is published (a product
    that differs is removed, not published); a product skipped as done is compared where it is.
    ``scheduler`` computes this product's shards (``None``: dask's current scheduler).
    """
    started = time.perf_counter()
    try:
        status, differences = _convert(job, store, mode=mode, checksums=checksums, verify=verify, scheduler=scheduler)
    except Exception as err:
        return JobResult(job.name, job.url, "failed", describe_error(err), time.perf_counter() - started)
    if differences:
        where = "; not published" if status == "failed" else " in the store: convert it again with mode='w'"
        error = f"verification found {len(differences)} difference(s){where}"
        return JobResult(job.name, job.url, "failed", error, time.perf_counter() - started, differences)
    return JobResult(job.name, job.url, status, "", time.perf_counter() - started)


def describe_error(err: BaseException) -> str:
    """The package's errors speak for themselves; others get their type named."""
    return str(err) if isinstance(err, CrismError) else f"{type(err).__name__}: {err}"


def _convert(
    job: Job, store: Store, *, mode: str, checksums: bool, verify: bool, scheduler: str | None,
) -> tuple[str, list[str]]:
    with hold_product_lock(store, job.name) as lock:  # one converter per product at a time
        if not _prepare_target(job, store, mode, checksums):
            return "skipped", verify_job(read_job_groups(job), store, store.final(job.name)) if verify else []
        return _write_and_publish(job, store, lock, checksums=checksums, verify=verify, scheduler=scheduler)


def _write_and_publish(
    job: Job, store: Store, lock: ProductLock, *, checksums: bool, verify: bool, scheduler: str | None,
) -> tuple[str, list[str]]:
    """Write the product into its partial path, verify it (``verify``), check the partial is this run's, publish."""
    groups, record, feeds = _read_dataset_job(job) if job.dataset is not None else _read_product_job(job, checksums)
    record = {**record, "run": lock.token}
    written = {**groups, "": groups[""].assign_attrs({RECORD_KEY: record})}
    target = store.url(store.partial(job.name))
    slabs = feeds.slabs(scheduler)
    with quiet_zarr():
        for path, ds in sorted(written.items(), key=lambda item: item[0] != ""):
            _write_group(ds, target, path, store.storage_options, scheduler, job.chunks, slabs if not path else {})
        if feeds.hashers:  # the checksums of the bytes just read go into the record, before it is published
            _write_record(store, job.name, feeds.finish(record))
        if len(groups) > 1:
            zarr.consolidate_metadata(build_zarr_store(store, store.partial(job.name)), zarr_format=3)
    differences = verify_job(groups, store, store.partial(job.name)) if verify else []
    if differences:
        remove(store, store.partial(job.name))
        return "failed", differences
    check_own_partial(store, job.name, lock)
    publish(store, job.name)
    return "converted", []


def _read_product_job(job: Job, checksums: bool) -> tuple[dict[str, xr.Dataset], dict[str, Any], Feeds]:
    """The groups to write, the record (without checksums yet) and what the writing feeds, from the product's files.

    The SHA-256 of each file is computed from the bytes the conversion reads (:mod:`.hashing`), not by a second read.
    """
    product = read_job_product(job)  # opened once: written, checksummed and verified from the same model
    if job.product_id is not None:
        check_entry_product(job.product_id, product.product_id.product_id, job.url)
    groups = read_job_groups(job, product)
    sources = _job_sources(job, product)
    facts = read_file_facts(sources, checksums=False)
    hashers = {s.url: OrderedHasher(s, fact["size"]) for s, fact in zip(sources, facts, strict=True)} if checksums else {}
    arrays = {} if job.product_set else _disk_arrays(product, groups[""])
    return groups, build_record(job.url, job.options, facts, __version__), Feeds(hashers, arrays)


def _disk_arrays(product: Product, ds: xr.Dataset) -> dict[str, DiskArray]:
    """The data variables written from whole disk arrays of the product (read in slabs)."""
    found = {name: find_disk_array(var.data) for name, var in product.variables.items() if name in ds.data_vars}
    return {name: disk for name, disk in found.items() if disk is not None}


def _write_record(store: Store, name: str, record: dict[str, Any]) -> None:
    """Replace the conversion record in the root ``zarr.json`` of product ``name``'s partial path."""
    group = zarr.open_group(build_zarr_store(store, store.partial(name)), mode="r+", zarr_format=3)
    group.attrs.update({RECORD_KEY: record})


def _read_dataset_job(job: Job) -> tuple[dict[str, xr.Dataset], dict[str, Any], Feeds]:
    """A Dataset as held, its encodings dropped (they describe the file it came from, not these values)."""
    ds = (job.dataset if job.dataset is not None else xr.Dataset()).copy()
    for var in ds.variables.values():
        var.encoding = {}
    return {"": ds}, {**build_record(job.url or None, job.options, [], __version__), "note": DATASET_NOTE}, Feeds()


@contextlib.contextmanager
def quiet_zarr() -> Iterator[None]:
    """Silence zarr's notices about what we chose knowingly (documented in the README).

    Consolidated metadata is not in the Zarr v3 specification yet, and string coordinates
    (filter names) have no stable v3 data type; both read back with zarr-python and xarray.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata")
        warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification")
        yield


def check_mode(mode: str, store: Store) -> None:
    """Only ``"w-"`` (never overwrite; resume) and ``"w"`` (replace) are modes of a conversion."""
    if mode not in ("w-", "w"):
        raise CrismError(store.url(store.root), "mode", mode, "'w-' (never overwrite; resume) or 'w' (replace)")


def _prepare_target(job: Job, store: Store, mode: str, checksums: bool) -> bool:
    """False if ``job`` is already done; clears what a killed run left; refuses to overwrite (``w-``),
    to replace a product whose source changed (``w-``: stale) and to delete files it did not write."""
    final, partial = store.final(job.name), store.partial(job.name)
    record = read_record(store, job.name)
    if mode == "w-" and record is not None and job.dataset is not None:
        raise StoreExistsError(
            store.url(final), "path", store.url(final), "nothing there (a Dataset is never taken for a conversion "
            "already done: its values may have changed)", "Pass mode='w' to replace it, or choose another store",
        )
    if mode == "w-" and record is not None:
        _check_done(job, store, record, checksums)
        remove(store, partial)  # left by a run killed after publishing, before cleaning up
        return False
    killed_while_publishing = record is None and store.fs.exists(partial)
    if record is None and _has_content(store, final, job.name):
        foreign = find_foreign_files(store, final, partial if killed_while_publishing else None)
        if foreign or not killed_while_publishing:
            raise StoreExistsError(
                store.url(final), "path", foreign[:5] or store.url(final), "nothing there, or a product this converter wrote",
                "choose another store: the converter never deletes files it did not write",
            )
    if mode == "w" and record is not None:
        foreign = find_foreign_files(store, final)
        if foreign:
            raise StoreExistsError(
                store.url(final), "path", foreign[:5], "only the files of the Zarr product this converter wrote",
                "move these files away, or choose another store: the converter never deletes files it did not write",
            )
    remove(store, partial)  # held by this run's lock: a killed run's
    if mode == "w" or killed_while_publishing:
        remove(store, final)
    return True


def _check_done(job: Job, store: Store, record: dict[str, Any], checksums: bool) -> None:
    """A finished product of the same source and options whose source files are unchanged is done."""
    final = store.url(store.final(job.name))
    if record.get("source") != job.url or record.get("options") != job.options:
        raise StoreExistsError(
            final, "source", record.get("source"), f"a conversion of {job.url} with options {job.options}",
            "pass mode='w' (CLI: --overwrite) to replace it, or choose another store",
        )
    changed = find_changed_files(record, job.storage_options, checksums=checksums)
    if changed:
        raise StoreExistsError(
            final, "source files", changed[:5], "the files it was converted from, unchanged (stale product)",
            "the source changed after this product was converted: pass mode='w' (CLI: --overwrite) to convert it again",
        )


def _has_content(store: Store, final: str, name: str) -> bool:
    """Something at the product's path (the root of a multi-product store may hold other products)."""
    if name:
        return bool(store.fs.exists(final))
    return bool(store.fs.exists(final) and store.fs.ls(final))


def read_job_groups(job: Job, product: Product | None = None) -> dict[str, xr.Dataset]:
    """The job's Datasets by group path, undecoded (values as stored): ``{"": product}`` or a set's groups.

    ``product`` is the job's product already read (:func:`read_job_product`), for a single product.
    """
    if not job.product_set:
        return {"": with_masked_constants(build_dataset(product or read_job_product(job)))}
    from ..xr.tree import open_crism_groups

    groups = open_crism_groups(
        job.url, mask_and_scale=False, sidecar_dirs=job.sidecar_dirs, storage_options=job.storage_options,
    )
    return {path.strip("/"): with_masked_constants(ds) for path, ds in groups.items()}


def read_job_product(job: Job) -> Product:
    """The product model of a job, with its DDR and sidecars joined as the job says."""
    return open_product(
        job.url, ddr=job.ddr, sidecar_dirs=job.sidecar_dirs, storage_options=job.storage_options, bayer=job.bayer,
    )


def with_masked_constants(ds: xr.Dataset) -> xr.Dataset:
    """(Undecoded Datasets) list several masked constants as the backend's decoding does, so decoded attributes match it."""
    for var in ds.variables.values():
        if "missing_value" in var.attrs:
            var.attrs["masked_constants"] = build_masked_constants(var.attrs["missing_value"])
    return ds


def _job_sources(job: Job, product: Product) -> list[Source]:
    """The files a job reads: the product's (with its DDR), and for a set every member's and table."""
    sources = find_source_files(product)
    if job.product_set:
        _, finder = read_product(job.url, sidecar_dirs=job.sidecar_dirs, storage_options=job.storage_options)
        members = find_product_set(product.product_id, finder)
        for member in members.members.values():
            sources += find_source_files(read_product(member.url, storage_options=job.storage_options)[0])
        sources += list(members.tables.values())
    return list({s.url: s for s in sources}.values())


def build_encoding(ds: xr.Dataset, layout: str = DEFAULT_LAYOUT) -> dict[str, dict[str, Any]]:
    """Chunks, shards and Blosc zstd for every variable, in a named ``layout`` (:mod:`xarray_crism.cloud.zarr_layout`)."""
    encoding = {}
    for name, var in ds.variables.items():
        chunking = build_chunking(tuple(map(str, var.dims)), var.shape, var.dtype.itemsize, layout)
        enc: dict[str, Any] = {"chunks": chunking.chunks}
        if var.dtype.kind in "biuf":
            enc["compressors"] = [BloscCodec(**COMPRESSOR, typesize=var.dtype.itemsize)]
        if chunking.shards is not None:
            enc["shards"] = chunking.shards
        if "_FillValue" not in var.attrs:
            enc["_FillValue"] = None  # no fill value the source does not have (xarray adds NaN to floats)
        encoding[str(name)] = enc
    return encoding


def _write_group(
    ds: xr.Dataset, target: str, path: str, storage_options: dict[str, Any], scheduler: str | None, layout: str,
    slabs: dict[str, tuple[DiskArray, OrderedHasher | None]],
) -> None:
    """Write one group: metadata first, then the data shard by shard on ``scheduler``.

    The variables of ``slabs`` whose slabs are not too big are copied slab by slab in file order
    (:func:`~xarray_crism.cloud.hashing.write_in_slabs`, fed to their file's hasher); the others by dask.
    """
    encoding = build_encoding(ds, layout)
    chunked, steps = ds.copy(), {}
    for name, var in ds.data_vars.items():  # each variable in its own shards: dask tasks write whole shards
        enc = encoding[str(name)]
        shards = enc.get("shards", enc["chunks"])
        chunked[name] = var.chunk(dict(zip(var.dims, shards, strict=True)))
        if str(name) in slabs:
            disk = slabs[str(name)][0]
            step = shards[disk.layout.dims.index(disk.layout.storage_dims[0])]
            steps.update({str(name): step} if slab_bytes(disk, step) <= SLAB_LIMIT_BYTES else {})
    rest = chunked.drop_vars(list(steps)).to_zarr(
        target, mode="w-" if not path else "a", group=path or None, zarr_format=3, consolidated=not path,
        encoding=_without(encoding, steps), storage_options=storage_options or None, compute=False,
    )
    if steps:  # their metadata only (this graph is never computed), with the group's attributes again, as they are
        _placeholders(chunked, steps).to_zarr(
            target, mode="a", group=path or None, zarr_format=3, consolidated=not path,
            encoding={name: encoding[name] for name in steps}, storage_options=storage_options or None, compute=False,
        )
        group = zarr.open_group(target, path=path, mode="r+", zarr_format=3, storage_options=storage_options or None)
        for name, step in steps.items():
            write_in_slabs(slabs[name][0], group[name], step, slabs[name][1], _slab_threads(scheduler))
    rest.compute(scheduler=scheduler)  # type: ignore[no-untyped-call]


def _placeholders(ds: xr.Dataset, names: dict[str, int]) -> xr.Dataset:
    """The variables ``names`` without their coordinates (written already), each naming them as xarray writes them
    (CF ``coordinates``), and the group's attributes as written."""
    attrs = dict(ds.attrs)
    loose = [str(c) for c in ds.coords if c not in ds.dims and not any(_belongs(ds, c, v) for v in ds.data_vars)]
    if loose:  # as xarray writes coordinates that no data variable has
        attrs["coordinates"] = " ".join(loose)
    variables = {}
    for name in names:
        variables[name] = var = ds[name].variable.copy(deep=False)
        found = " ".join(str(c) for c in ds.coords if c not in ds.dims and _belongs(ds, c, name))
        var.encoding = {"coordinates": found} if found else {}
    return xr.Dataset(variables, attrs=attrs)


def _belongs(ds: xr.Dataset, coord: Any, name: Any) -> bool:
    return set(ds[coord].dims) <= set(ds[name].dims)


def _without(encoding: dict[str, dict[str, Any]], names: dict[str, int]) -> dict[str, dict[str, Any]]:
    return {name: enc for name, enc in encoding.items() if name not in names}


def _slab_threads(scheduler: str | None) -> int:
    """Threads that write slabs: one on the synchronous scheduler, dask's ``num_workers`` (or one per CPU) otherwise."""
    if (scheduler or dask.config.get("scheduler", None)) in ("synchronous", "sync", "single-threaded"):
        return 1
    return int(dask.config.get("num_workers", None) or os.cpu_count() or 1)


def verify_job(groups: dict[str, xr.Dataset], store: Store, path: str) -> list[str]:
    """Compare every shard (or chunk) of the product written at ``path`` with its source groups, bit for bit."""
    from .verify import compare_groups

    return compare_groups(groups, store.url(path), store.storage_options)
