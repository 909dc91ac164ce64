"""Writing virtual Zarr references (kerchunk JSON or parquet) for products, lists and catalogs.

``write_references(source, "refs.json")`` maps every chunk of every variable to a byte range of
the original files (:mod:`xarray_crism.cloud.virtual`); ``xr.open_dataset("refs.json", engine="kerchunk")``
then reads the archive as Zarr in place. One product is the root group; a list or a catalog gives
one group per product (open them with ``xr.open_zarr("reference://", group=PRODUCT_ID,
consolidated=True, storage_options={"fo": target})`` or all at once with ``xr.open_datatree``:
each group carries consolidated metadata, which zarr needs to find a subgroup's arrays in
references). A target ending in ``.icechunk`` becomes a virtual Icechunk repository (Zarr v3, the
backend's dimension order: :mod:`xarray_crism.cloud.icechunk_refs`). A target ending in ``.parquet`` or
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
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import CrismError, StoreExistsError
from ..model.product import Product
from .conversion import ConversionReport, build_jobs
from .convert import Job, JobResult, check_mode, describe_error, read_job_product
from .stores import Store, open_store, remove
from .virtual import build_consolidated, read_product_references

__all__ = ["write_references"]

_PARQUET = (".parquet", ".parq")
_T = TypeVar("_T")


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
    report = ConversionReport(store.url(store.root))
    if store.root.lower().endswith(".icechunk"):
        from .icechunk_refs import check_sources, write_icechunk

        if not store.is_local:
            raise CrismError(store.url(store.root), "target", store.url(store.root), "a local directory (Icechunk output)")
        products = _collect(jobs, report, lambda job, product: check_sources(product))
        if products:
            _replace(store, lambda partial: write_icechunk(products, partial))
    else:
        parquet = store.root.lower().endswith(_PARQUET)
        by_product = _collect(
            jobs, report, lambda job, product: read_product_references(product, prefix="" if parquet else job.name),
        )
        if by_product:
            _replace(store, lambda partial: _write_refs(store, partial, by_product, parquet, record_size))
    report.seconds = time.perf_counter() - started
    return report


def _collect(jobs: list[Job], report: ConversionReport, build: Callable[[Job, Product], _T]) -> dict[str, _T]:
    """``build`` of every job's product; a product that fails is reported and left out."""
    out: dict[str, _T] = {}
    for job in jobs:
        t0 = time.perf_counter()
        try:
            out[job.name] = build(job, read_job_product(job))
        except Exception as err:  # one product's failure must not stop the others
            report.results.append(JobResult(job.name, job.url, "failed", describe_error(err), time.perf_counter() - t0))
            continue
        report.results.append(JobResult(job.name, job.url, "converted", "", time.perf_counter() - t0))
    return out


def _check_target(store: Store, mode: str) -> None:
    check_mode(mode, store)
    if mode == "w-" and store.fs.exists(store.root):
        raise StoreExistsError(
            store.url(store.root), "path", store.url(store.root), "nothing there (mode='w-' never overwrites)",
            "Pass mode='w' to replace it",
        )


def _replace(store: Store, write: Callable[[str], None]) -> None:
    """``write`` the target beside it under a unique temporary name, then move that into place.

    A local JSON file replaces the target atomically (``os.replace``), and a JSON object on an object
    store is one put; a directory (parquet, Icechunk) is moved after the old one is removed (``mode="w"``).
    """
    partial = f"{store.root}.partial-{uuid.uuid4().hex[:8]}"
    try:
        write(partial)
        if not (store.is_local and os.path.isfile(partial)):
            remove(store, store.root)
        if store.is_local:
            os.replace(partial, store.root)
        else:
            store.fs.mv(partial, store.root, recursive=True)
    finally:
        remove(store, partial)


def _write_refs(store: Store, partial: str, by_product: dict[str, dict[str, Any]], parquet: bool, record_size: int) -> None:
    if parquet:
        _write_parquet(store, partial, by_product, record_size)
    else:
        _write_json(store, partial, by_product)


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
