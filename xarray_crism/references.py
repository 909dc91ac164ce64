"""Writing virtual Zarr references (kerchunk JSON or parquet) for products, lists and catalogs.

``write_references(source, "refs.json")`` maps every chunk of every variable to a byte range of
the original files (:mod:`xarray_crism.virtual`); ``xr.open_dataset("refs.json", engine="kerchunk")``
then reads the archive as Zarr in place. One product is the root group; a list or a catalog gives
one group per product (open them with ``xr.open_zarr("reference://", group=PRODUCT_ID,
consolidated=True, storage_options={"fo": target})`` or all at once with ``xr.open_datatree``:
each group carries consolidated metadata, which zarr needs to find a subgroup's arrays in
references). A target ending in ``.icechunk`` becomes a virtual Icechunk repository (Zarr v3, the
backend's dimension order: :mod:`xarray_crism.icechunk_refs`). A target ending in ``.parquet`` or
``.parq`` is written as kerchunk parquet
reference stores (for catalogs of many products): one store per product, ``<target>/<PRODUCT_ID>``
(kerchunk's parquet stores hold one group), or the target itself for one product; each opens
with ``engine="kerchunk"``. Anything else is written as one JSON file.
The file is written under a temporary name and moved into place; an existing target is an error
unless ``mode="w"``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

from .conversion import ConversionReport, build_jobs
from .convert import JobResult, check_mode, describe_error, read_job_product
from .errors import CrismError, StoreExistsError
from .stores import Store, open_store, remove
from .virtual import build_consolidated, read_product_references

__all__ = ["write_references"]

_PARQUET = (".parquet", ".parq")


def write_references(
    source: Any,
    target: str | os.PathLike[str],
    *,
    storage_options: dict[str, Any] | None = None,
    source_storage_options: dict[str, Any] | None = None,
    ddr: str | None = None,
    sidecar_dirs: tuple[str, ...] = (),
    mode: str = "w-",
    record_size: int = 100_000,
) -> ConversionReport:
    """Write kerchunk references of ``source`` (product, list or catalog) to ``target`` (JSON or parquet)."""
    started = time.perf_counter()
    store = open_store(target, storage_options)
    _check_target(store, mode)
    jobs = build_jobs(source, ddr=ddr, sidecar_dirs=sidecar_dirs, storage_options=source_storage_options)
    for job in jobs:
        if job.product_set or job.bayer != "raw":
            raise CrismError(
                job.url, "bayer" if job.bayer != "raw" else "product_set", job.bayer if job.bayer != "raw" else True,
                "products referenced as they are in their files (bayer='raw', no product_set)",
                "split Bayer planes are computed, not stored: convert them to Zarr instead",
            )
    if store.root.lower().endswith(".icechunk"):
        return _write_icechunk_report(store, jobs, started)
    parquet = store.root.lower().endswith(_PARQUET)
    by_product: dict[str, dict[str, Any]] = {}
    report = ConversionReport(store.url(store.root))
    for job in jobs:
        t0 = time.perf_counter()
        try:
            by_product[job.name] = read_product_references(read_job_product(job), prefix="" if parquet else job.name)
        except Exception as err:
            report.results.append(JobResult(job.name, job.url, "failed", describe_error(err), time.perf_counter() - t0))
            continue
        report.results.append(JobResult(job.name, job.url, "converted", "", time.perf_counter() - t0))
    if by_product:
        _write(store, by_product, parquet, record_size)
    report.seconds = time.perf_counter() - started
    return report


def _write_icechunk_report(store: Store, jobs: list[Any], started: float) -> ConversionReport:
    """An Icechunk repository (local directory) of every product that opens; failures are reported."""
    from .icechunk_refs import check_sources, write_icechunk

    if not store.is_local:
        raise CrismError(store.url(store.root), "target", store.url(store.root), "a local directory (Icechunk output)")
    products, report = {}, ConversionReport(store.url(store.root))
    for job in jobs:
        try:
            product = read_job_product(job)
            check_sources(product)
        except Exception as err:  # one product's failure must not stop the others
            report.results.append(JobResult(job.name, job.url, "failed", describe_error(err)))
            continue
        products[job.name] = product
    if products:
        partial = f"{store.root}.partial-{uuid.uuid4().hex[:8]}"
        try:
            write_icechunk(products, partial)
            remove(store, store.root)
            os.replace(partial, store.root)
        finally:
            remove(store, partial)
        report.results += [JobResult(j.name, j.url, "converted") for j in jobs if j.name in products]
    report.seconds = time.perf_counter() - started
    return report


def _check_target(store: Store, mode: str) -> None:
    check_mode(mode, store)
    if mode == "w-" and store.fs.exists(store.root):
        raise StoreExistsError(
            store.url(store.root), "path", store.url(store.root), "nothing there (mode='w-' never overwrites)",
            "pass mode='w' (CLI: --overwrite) to replace it",
        )


def _write(store: Store, by_product: dict[str, dict[str, Any]], parquet: bool, record_size: int) -> None:
    """Write beside the target under a unique temporary name, then move it into place.

    A JSON file replaces the target atomically on local disks (``os.replace``) and as one object
    on object stores; a parquet directory is moved after the old one is removed (``mode="w"``).
    """
    partial = f"{store.root}.partial-{uuid.uuid4().hex[:8]}"
    try:
        if parquet:
            _write_parquet(store, partial, by_product, record_size)
        else:
            _write_json(store, partial, by_product)
        if store.is_local and not parquet:
            os.replace(partial, store.root)
            return
        remove(store, store.root)
        store.fs.mv(partial, store.root, recursive=True)
    finally:
        remove(store, partial)


def _write_parquet(store: Store, partial: str, by_product: dict[str, dict[str, Any]], record_size: int) -> None:
    from kerchunk.df import refs_to_dataframe

    for name, refs in by_product.items():
        where = f"{partial}/{name}" if name else partial
        refs_to_dataframe(
            {"version": 1, "refs": refs}, store.url(where), storage_options=store.storage_options or None,
            record_size=record_size,
        )


def _write_json(store: Store, partial: str, by_product: dict[str, dict[str, Any]]) -> None:
    refs = {key: value for product in by_product.values() for key, value in product.items()}
    if "" not in by_product:
        refs[".zgroup"] = json.dumps({"zarr_format": 2})
        refs[".zmetadata"] = build_consolidated(refs)
    with store.fs.open(partial, "w") as f:
        json.dump({"version": 1, "refs": refs}, f)
