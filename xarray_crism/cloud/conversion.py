"""``xarray_crism.to_zarr``: products, lists, product sets and catalogs to Zarr stores, on dask.

- One product (a path or URL) becomes the store itself: ``xr.open_zarr(store)`` reads it.
- A list, or an Intake catalog (:func:`~xarray_crism.open_catalog`), becomes one group per product,
  named by its PRODUCT_ID, under a root whose consolidated metadata lists them all:
  ``xr.open_datatree(store, engine="zarr")`` reads the lot.
- ``product_set=True`` writes a product's whole set (``/IF``, ``/DE``, ``/WV``, ...: what
  ``xr.open_datatree(path, engine="crism")`` gives) as one group hierarchy.

Each product is one dask task; a single product is written on the scheduler given (threads by
default), many products one task each (written inside the task). A product's arrays are read in
slabs of whole file rows, in file order, each hashed as it is read and cut into shards
(:mod:`xarray_crism.cloud.hashing`), so memory stays near one slab per thread. ``scheduler`` takes ``"threads"``, a
``distributed.Client`` or a scheduler address (``"tcp://host:8786"``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import posixpath
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import dask
import xarray as xr
import zarr
from dask.base import compute
from dask.callbacks import Callback
from dask.delayed import Delayed, delayed

from ..errors import CrismError, StoreExistsError, UnsupportedSourceError
from .convert import Job, JobResult, check_mode, convert_job, describe_error, quiet_zarr
from .stores import Store, build_zarr_store, open_store, read_record
from .zarr_layout import DEFAULT_LAYOUT, check_layout

__all__ = [
    "ACCEPTED", "GROUPS_HINT", "CatalogLike", "ConversionReport", "Convertible", "EntryLike", "ProductLike",
    "build_catalog_jobs", "build_jobs", "build_reader_job", "is_interactive", "run_jobs", "to_zarr",
]



class EntryLike(Protocol):
    """A catalog entry (``cat[name]``, an Intake reader): its ``kwargs["data"]`` holds the product's URL."""

    @property
    def kwargs(self) -> dict[str, Any]: ...


class CatalogLike(Protocol):
    """An Intake catalog (:func:`~xarray_crism.open_catalog`): entries named by ``aliases``."""

    @property
    def aliases(self) -> dict[str, str]: ...

    @property
    def entries(self) -> dict[str, Any]: ...


#: What :func:`to_zarr` takes: one product (path, Dataset, entry), a catalog, or a list of products.
ProductLike = str | os.PathLike[str] | xr.Dataset | EntryLike
Convertible = ProductLike | CatalogLike | Iterable[ProductLike | Job]


@dataclass
class ConversionReport:
    """The outcome of a conversion: one :class:`~xarray_crism.cloud.convert.JobResult` per product."""

    store: str
    results: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0
    #: True when each product is a group of the store (a list or a catalog), not the store itself.
    groups: bool = False

    def count(self, status: str) -> int:
        """How many products ended with ``status`` (``converted``, ``skipped``, ``failed``)."""
        return sum(r.status == status for r in self.results)

    @property
    def ok(self) -> bool:
        """True when no product failed."""
        return self.count("failed") == 0

    def summary(self) -> str:
        """One line of counts, then one line per failure with its error."""
        lines = [
            f"{self.store}: {self.count('converted')} converted, {self.count('skipped')} skipped (already done), "
            f"{self.count('failed')} failed in {self.seconds:.1f} s"
        ]
        for r in self.results:
            if r.status == "failed":
                lines.append(f"  FAILED {r.name or r.url}: {r.error}")
                lines += [f"    {d}" for d in r.differences[:20]]
        if self.groups and self.count("failed") < len(self.results):
            lines.append(GROUPS_HINT.format(store=self.store))
        return "\n".join(lines)


#: The report's reminder that a multi-product store opens as a tree, not as one Dataset.
GROUPS_HINT = (
    "Each product is a group of {store} (named by its PRODUCT_ID): open them all with "
    "xr.open_datatree('{store}', engine='zarr'), or one with xr.open_zarr('{store}', group=NAME) "
    "(xr.open_zarr('{store}') alone gives an empty Dataset)"
)


def to_zarr(
    source: Convertible,
    store: str | os.PathLike[str],
    *,
    storage_options: dict[str, Any] | None = None,
    source_storage_options: dict[str, Any] | None = None,
    mode: str = "w-",
    ddr: str | None = None,
    sidecar_dirs: Sequence[str] = (),
    bayer: str = "raw",
    product_set: bool = False,
    scheduler: Any = None,
    workers: int | None = None,
    progress: bool | None = None,
    verify: bool = False,
    checksums: bool = True,
    chunks: str = DEFAULT_LAYOUT,
) -> ConversionReport:
    """Convert ``source`` to a Zarr store: a product path/URL, an ``xarray.Dataset``, a catalog entry
    (``cat[name]``), an Intake catalog (:func:`~xarray_crism.open_catalog`), or a list of paths,
    Datasets and entries.

    One product becomes the store itself; a list or a catalog one group per product. A path or an
    entry is read from its files (its record lists them, with sizes and SHA-256); a Dataset is
    written as it is held (decoded values, its attributes; :data:`~xarray_crism.cloud.convert.DATASET_NOTE`:
    its record lists no files, and ``mode="w-"`` never takes it for already done). Anything else
    raises :class:`~xarray_crism.errors.UnsupportedSourceError` (a ``TypeError``).

    ``store`` is a local path or fsspec URL (``s3://bucket/crism.zarr``; ``storage_options`` for
    it, ``source_storage_options`` for the sources). ``mode="w-"`` (default) never overwrites:
    products already converted from the same source with the same options, from source files that
    have not changed since, are skipped (a killed conversion resumes); a stale product (its source
    changed) or anything else at a product's place is an error; ``mode="w"`` replaces a product this
    converter wrote and never deletes other files. One converter writes a product at a time (a lock
    beside it; :mod:`xarray_crism.cloud.locks`): another run on it at the same time fails.
    ``ddr`` (``"auto"`` or a label), ``sidecar_dirs`` and ``bayer`` are the backend's options.
    ``verify`` compares every shard with the source after writing; ``checksums=False`` skips the
    SHA-256 of the source files (computed from the bytes the conversion reads). ``chunks`` names the chunk layout
    (:data:`~xarray_crism.cloud.zarr_layout.LAYOUTS`: ``"balanced"``, ``"spectra"``, ``"bands"``).
    Errors of one product do not stop the others: they are in the report (``report.ok``, ``report.summary()``).
    """
    check_layout(chunks)
    jobs = build_jobs(
        source, ddr=ddr, sidecar_dirs=sidecar_dirs, storage_options=source_storage_options, bayer=bayer,
        product_set=product_set, chunks=chunks,
    )
    target = open_store(store, storage_options)
    return run_jobs(
        jobs, target, mode=mode, scheduler=scheduler, workers=workers, progress=progress, verify=verify,
        checksums=checksums,
    )


def build_jobs(
    source: Convertible,
    *,
    ddr: str | None = None,
    sidecar_dirs: Sequence[str] = (),
    storage_options: dict[str, Any] | None = None,
    bayer: str = "raw",
    product_set: bool = False,
    chunks: str = DEFAULT_LAYOUT,
) -> list[Job]:
    """Jobs for a product (the store root), a list of products or a catalog (one group each).

    A list of :class:`~xarray_crism.cloud.convert.Job` is taken as it is.
    """
    template = Job(
        "", "", ddr=ddr, sidecar_dirs=tuple(map(str, sidecar_dirs)), storage_options=storage_options, bayer=bayer,
        product_set=product_set, chunks=chunks,
    )
    if _is_catalog(source):
        return [replace(job, chunks=chunks) for job in build_catalog_jobs(source)]
    if isinstance(source, Mapping) and not isinstance(source, xr.Dataset):
        raise UnsupportedSourceError("to_zarr", "source", _describe(source), ACCEPTED)
    if not isinstance(source, Iterable) or isinstance(source, (str, os.PathLike, xr.Dataset)) or _is_entry(source):
        return [_build_item_job(template, source, "")]
    items = list(source)  # a generator is read once
    jobs_given = [s for s in items if isinstance(s, Job)]
    if items and len(jobs_given) == len(items):
        return jobs_given
    if any(isinstance(s, Job) for s in items):
        raise CrismError("source", "source", items, "product paths/URLs or jobs, not both")
    jobs = [_build_item_job(template, item, None) for item in items]
    _check_unique(jobs)
    return jobs


#: What :func:`to_zarr` converts, as its error says.
ACCEPTED = (
    "a product path or URL (str, os.PathLike), an xarray.Dataset, a catalog entry (cat[name]), an Intake catalog "
    "(xarray_crism.open_catalog), or a list of paths, Datasets and entries"
)


def _build_item_job(template: Job, item: Any, name: str | None) -> Job:
    """The job of one path, Dataset or entry; ``name`` None: its group is named after the product."""
    if isinstance(item, (str, os.PathLike)):
        url = os.fspath(item)
        return replace(template, name=_product_name(url) if name is None else name, url=url)
    if isinstance(item, xr.Dataset):
        return replace(_dataset_job(item, name), chunks=template.chunks)
    if _is_entry(item):
        job = build_reader_job("", item)
        return replace(job, name=_product_name(job.url) if name is None else name, chunks=template.chunks)
    raise UnsupportedSourceError("to_zarr", "source", _describe(item), ACCEPTED)


def _dataset_job(ds: xr.Dataset, name: str | None) -> Job:
    source = ds.encoding.get("source")
    url = os.fspath(source) if isinstance(source, (str, os.PathLike)) else ""
    if name is None:
        if not isinstance(ds.attrs.get("product_id"), str):
            raise CrismError(url or "Dataset", "attrs['product_id']", ds.attrs.get("product_id"),
                             "a product ID naming the Dataset's group in a many-product store",
                             "Set ds.attrs['product_id'], or convert one Dataset alone")
        name = ds.attrs["product_id"].upper()
    return Job(name, url, dataset=ds)


def _is_catalog(source: Any) -> bool:
    """An Intake catalog (Intake readers answer any attribute, so the class is what tells)."""
    from intake.readers.entry import Catalog

    return isinstance(source, Catalog)


def _is_entry(source: Any) -> bool:
    """A catalog entry: an Intake reader of a product (its ``data`` holds the URL)."""
    from intake.readers.readers import BaseReader

    return isinstance(source, BaseReader) and hasattr(source.kwargs.get("data"), "url")


def _describe(item: Any) -> str:
    text = repr(item)
    return f"{type(item).__name__}: {text[:60]}{'...' if len(text) > 60 else ''}"


def build_catalog_jobs(catalog: Any) -> list[Job]:
    """One job per entry of an Intake catalog of products (as :func:`~xarray_crism.open_catalog` builds)."""
    jobs = [build_reader_job(name, catalog[name]) for name in catalog.aliases]
    _check_unique(jobs)
    return jobs


def build_reader_job(name: str, reader: Any) -> Job:
    """The job of one catalog entry (a ``CrismDatasetReader``): its URL, storage options, DDR and sidecars.

    The label it opens must be the product the entry names (its metadata's ``product_id``, else ``name``).
    """
    data = reader.kwargs["data"]
    product_id = (getattr(reader, "metadata", None) or {}).get("product_id") or name or None
    return Job(
        name, data.url, ddr=reader.kwargs.get("ddr"), sidecar_dirs=tuple(reader.kwargs.get("sidecar_dirs") or ()),
        storage_options=data.storage_options or None, product_id=product_id,
    )


def _product_name(url: str) -> str:
    name = posixpath.basename(url.rstrip("/"))
    for suffix in (".lbl.txt", ".lbl", ".img", ".xml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)].upper()
    return name.upper()


def _check_unique(jobs: list[Job]) -> None:
    seen: dict[str, str] = {}
    for job in jobs:
        if job.name in seen:
            raise CrismError(job.url, "product name", job.name, f"one source per product (also {seen[job.name]})")
        seen[job.name] = job.url


def run_jobs(
    jobs: list[Job],
    store: Store,
    *,
    mode: str = "w-",
    scheduler: Any = None,
    workers: int | None = None,
    progress: bool | None = None,
    verify: bool = False,
    checksums: bool = True,
) -> ConversionReport:
    """Run the jobs on dask and, for a multi-product store, consolidate its root metadata."""
    check_mode(mode, store)
    _check_unique(jobs)
    started = time.perf_counter()
    many = any(job.name for job in jobs)
    report = ConversionReport(store.url(store.root), groups=many)
    show = is_interactive() if progress is None else progress
    if many:
        _check_store_root(store, mode)
    with _scheduler(scheduler, workers) as client, quiet_zarr():
        if not many:
            with _shard_progress(show and client is None):
                report.results = [convert_job(jobs[0], store, mode=mode, checksums=checksums, verify=verify)]
        else:
            tasks = [delayed(_run_job, pure=False)(job, store, mode, checksums, verify) for job in jobs]
            report.results = _compute(tasks, client, show)
    if many and report.count("failed") < len(report.results):  # nothing written: no empty store left behind
        report.results += _consolidate(store)
    report.seconds = time.perf_counter() - started
    return report


def _run_job(job: Job, store: Store, mode: str, checksums: bool, verify: bool) -> JobResult:
    """One product inside a dask task: its shards are written one after the other, in this task."""
    return convert_job(job, store, mode=mode, checksums=checksums, verify=verify, scheduler="synchronous")


def _check_store_root(store: Store, mode: str) -> None:
    """Products go into a new or empty directory, or a store this converter made; never elsewhere."""
    fs, root = store.fs, store.root
    entries = [posixpath.basename(e.rstrip("/")) for e in fs.ls(root, detail=False)] if fs.exists(root) else []
    ours = fs.exists(f"{root}/zarr.json") or all(read_record(store, name) is not None for name in entries)
    if not ours:  # (a killed run leaves finished products and no root document yet)
        raise StoreExistsError(
            store.url(root), "path", store.url(root), "a new or empty directory, or a Zarr store to add products to",
            "choose another store: the converter never writes into, or deletes from, a directory it did not make",
        )


def _consolidate(store: Store) -> list[JobResult]:
    """Consolidate the root's metadata; a failure is reported, not raised (the products are written)."""
    try:
        consolidate_root(store)
    except Exception as err:
        return [JobResult("", store.url(store.root), "failed", f"consolidating the root metadata: {describe_error(err)}")]
    return []


@contextlib.contextmanager
def _scheduler(scheduler: Any, workers: int | None) -> Iterator[Any]:
    """``None``/``"threads"`` (or ``"processes"``, ``"synchronous"``): dask's local schedulers; an address:
    a ``distributed.Client`` connected to it; a Client: itself."""
    if scheduler in (None, "threads", "processes", "synchronous"):
        with dask.config.set(scheduler=scheduler or "threads", num_workers=workers):
            yield None
    elif isinstance(scheduler, str):
        from distributed import Client

        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
    else:
        with dask.config.set(scheduler=scheduler):
            yield scheduler


def is_interactive() -> bool:
    """A Jupyter or IPython session, or the Python prompt (where :func:`to_zarr` shows progress by default)."""
    return hasattr(sys, "ps1") or bool(sys.flags.interactive) or "IPython" in sys.modules


def _progress_bar_class() -> Any:
    """tqdm's notebook bar where it can draw (Jupyter with ipywidgets), its text bar elsewhere.

    ``tqdm.auto`` warns (``TqdmWarning``) when imported in Jupyter without ipywidgets: it is imported
    only when a bar is shown and ipywidgets is there, so ``progress=False`` never imports tqdm.
    """
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm


@contextlib.contextmanager
def _shard_progress(show: bool) -> Iterator[None]:
    """dask's progress bar over one product's shards (local schedulers), on stderr."""
    if not show:
        yield
        return
    from dask.diagnostics.progress import ProgressBar

    with ProgressBar(out=sys.stderr):  # type: ignore[no-untyped-call]
        yield


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Nothing to draw."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _compute(tasks: list[Delayed], client: Any, progress: bool) -> list[JobResult]:
    bar_class = _progress_bar_class() if progress else None
    with bar_class(total=len(tasks), unit="product") if bar_class else _NoBar() as bar:
        if client is not None:
            from distributed import as_completed

            futures = client.compute(tasks)
            for _ in as_completed(futures):  # type: ignore[no-untyped-call]
                bar.update()
            return list(client.gather(futures))
        with _Progress({t.key for t in tasks}, bar):
            return list(compute(*tasks))  # type: ignore[no-untyped-call]


class _Progress(Callback):
    """Advance a progress bar as each product's task finishes (local schedulers)."""

    def __init__(self, keys: set[Any], bar: Any) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._keys, self._bar = keys, bar

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key in self._keys:
            self._bar.update()


def consolidate_root(store: Store) -> None:
    """Make the store root a group whose consolidated metadata lists every finished product."""
    zstore = build_zarr_store(store, store.root)
    with quiet_zarr():
        zarr.open_group(zstore, mode="a", zarr_format=3)
        zarr.consolidate_metadata(zstore, zarr_format=3)
