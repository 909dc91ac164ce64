"""``xarray-crism convert``: products, product sets and catalogs to Zarr stores or virtual references.

    xarray-crism convert frt00014679_01_if156s_trr3.lbl out.zarr --ddr auto
    xarray-crism convert --catalog catalogs/crism_trdr.yaml --entry mrocr_2104 --observation-id 00014679 s3://b/crism.zarr
    xarray-crism convert --scheduler tcp://scheduler:8786 --catalog /archive/mrocr_2104 s3://b/crism/
    xarray-crism convert --virtual frt00014679_01_if156s_trr3.lbl refs.json
    xarray-crism convert --catalog /archive/mrocr_2104 --bbox 137 -5 138 -4 gale.zarr
    xarray-crism convert --chunks spectra frt00014679_01_if156s_trr3.lbl out.zarr

``--chunks`` names the store's chunk layout (``balanced``, the default: 32 bands x 64 x 64;
``spectra``: whole spectra; ``bands``: one band per chunk; see ``docs/zarr.md``).

``--catalog`` takes an Intake YAML catalog (entries are volumes, read with the filters, or
products; ``--param root=URL`` sets its user parameters, ``--entry`` picks entries) or a volume's
root or index label (read by :func:`~xarray_crism.open_catalog` with the filters). The exit
status is 0 when every product converted (or was already), 1 when some failed (listed at the end),
2 when the command itself is wrong or its input cannot be read (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import replace
from typing import Any

from ..cloud.convert import Job, JobResult, describe_error
from ..cloud.zarr_layout import DEFAULT_LAYOUT, LAYOUTS
from ..errors import CrismError, cli_wording

__all__ = ["add_convert_parser", "plain_text", "run_convert"]

_FILTERS = (
    "observation_id", "class_type", "product_type", "sensor", "product_id", "start", "stop", "filter", "eye", "sequence_id",
)
_USAGE = """xarray-crism convert [options] SOURCE [SOURCE ...] STORE
       xarray-crism convert [options] --catalog CATALOG STORE"""
#: reST markup -> plain text for ``--help``: ``code``, :role:`~a.b.name`, :role:`text <target>`.
_REST = (
    (re.compile(r":[a-z]+:`[^`<]*<([^>`]+)>`"), lambda m: m[1].rsplit(".", 1)[-1]),
    (re.compile(r":[a-z]+:`~?([^`]+)`"), lambda m: m[1].rsplit(".", 1)[-1] if m[0].count("~") else m[1]),
    (re.compile(r"``([^`]+)``"), lambda m: m[1]),
)


def plain_text(doc: str) -> str:
    """A docstring's reST markup (double back-quotes, Sphinx roles) as plain text, for ``--help``."""
    for pattern, substitute in _REST:
        doc = pattern.sub(substitute, doc)
    return doc


def add_convert_parser(sub: Any) -> None:
    """Register the ``convert`` subcommand on an argparse sub-parser collection."""
    p = sub.add_parser("convert", help="convert products or a catalog to Zarr (or virtual references)",
                       description=plain_text(__doc__ or ""), usage=_USAGE,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="product labels or URLs (none with --catalog)")
    p.add_argument("store", metavar="STORE", help="the target store: a local path or fsspec URL (s3://bucket/x.zarr)")
    p.add_argument("--catalog", help="Intake YAML catalog, or a volume root / index label, to convert products from")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="user parameter of a YAML catalog")
    p.add_argument("--entry", action="append", default=[], help="only these entries of a YAML catalog")
    p.add_argument("--ddr-volume", help="DDR volume root (volume catalogs)")
    p.add_argument("--cdr-volume", help="CDR volume root (volume catalogs)")
    for name in _FILTERS:
        p.add_argument(f"--{name.replace('_', '-')}", help=f"catalog filter {name}")
    p.add_argument("--sol", type=int, action="append", help="catalog filter: Mastcam-Z sol")
    p.add_argument("--bbox", type=float, nargs=4, metavar=("WEST", "SOUTH", "EAST", "NORTH"),
                   help="catalog filter: footprints that intersect this box (degrees, east longitude)")
    p.add_argument("--ddr", help="'auto' or the DDR label to join (single products and lists)")
    p.add_argument("--sidecar-dir", action="append", default=[], help="extra directory or URL for sidecars")
    p.add_argument("--bayer", choices=("raw", "split"), default="raw", help="split raw Bayer mosaics into R, G, B")
    p.add_argument("--set", action="store_true", help="convert the product's whole set (IF, DE, WV, ...) as groups")
    p.add_argument("--chunks", choices=sorted(LAYOUTS), default=DEFAULT_LAYOUT,
                   help=f"chunk layout of the store (default {DEFAULT_LAYOUT}; see docs/zarr.md)")
    p.add_argument("--virtual", action="store_true", help="write kerchunk references (.json, or .parquet) instead")
    p.add_argument("--overwrite", action="store_true", help="replace what is there (default: never overwrite; resume)")
    p.add_argument("--verify", action="store_true", help="compare every shard with the source after writing")
    p.add_argument("--scheduler", default="threads",
                   help="'threads' (default), 'processes', 'synchronous' or a dask.distributed scheduler address")
    p.add_argument("--workers", type=int, default=None, help="threads for the local scheduler")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-checksums", action="store_true", help="skip SHA-256 of the sources (hashed as they are read)")
    p.add_argument("--storage-options", type=json.loads, default=None, help="JSON fsspec options for the store")
    p.add_argument("--source-storage-options", type=json.loads, default=None, help="JSON fsspec options for sources")


def run_convert(args: argparse.Namespace) -> int:
    """Run ``convert``; print the report; 0 = all done, 1 = some products failed, 2 = bad command."""
    from ..cloud.conversion import run_jobs
    from ..cloud.references import write_references
    from ..cloud.stores import open_store

    sources, store = args.sources, args.store
    if bool(sources) == bool(args.catalog):
        print("xarray-crism convert: give either SOURCE... STORE or --catalog CATALOG STORE", file=sys.stderr)
        return 2
    jobs, failures = read_catalog_jobs(args) if args.catalog else (_source_jobs(args, sources), [])
    jobs = [replace(job, chunks=args.chunks) for job in jobs]
    mode = "w" if args.overwrite else "w-"
    if args.virtual:
        report = write_references(jobs, store, storage_options=args.storage_options, mode=mode)
    else:
        report = run_jobs(
            jobs, open_store(store, args.storage_options), mode=mode, scheduler=args.scheduler, workers=args.workers,
            progress=not args.no_progress, verify=args.verify, checksums=not args.no_checksums,
        )
    report.results = failures + report.results
    print(cli_wording(report.summary()))
    return 0 if report.ok else 1


def _source_jobs(args: argparse.Namespace, sources: list[str]) -> list[Job]:
    from ..cloud.conversion import build_jobs

    return build_jobs(
        sources[0] if len(sources) == 1 else sources, ddr=args.ddr, sidecar_dirs=args.sidecar_dir,
        storage_options=args.source_storage_options, bayer=args.bayer, product_set=args.set,
    )


def read_catalog_jobs(args: argparse.Namespace) -> tuple[list[Job], list[JobResult]]:
    """Jobs for the products ``--catalog`` selects; volumes that cannot be read become failures."""
    from ..archive.intake_plugin import open_catalog
    from ..cloud.conversion import build_catalog_jobs

    filters = {k: getattr(args, k) for k in _FILTERS if getattr(args, k) is not None}
    if args.sol:
        filters["sol"] = args.sol
    if args.bbox:
        filters["bbox"] = tuple(args.bbox)
    options = args.source_storage_options
    if not args.catalog.lower().endswith((".yaml", ".yml")):
        cat = open_catalog(args.catalog, ddr_volume=args.ddr_volume, cdr_volume=args.cdr_volume, storage_options=options,
                           **filters)
        return build_catalog_jobs(cat), []
    import intake

    top = intake.from_yaml_file(args.catalog)
    if args.param:
        bad = [p for p in args.param if "=" not in p]
        if bad:
            raise CrismError(args.catalog, "--param", bad[0], "KEY=VALUE (a user parameter of the catalog, e.g. root=URL)")
        top = top(**dict(p.split("=", 1) for p in args.param))
    jobs: list[Job] = []
    failures: list[JobResult] = []
    for name in args.entry or list(top.aliases):
        try:
            jobs += _entry_jobs(top, name, filters)
        except Exception as err:
            failures.append(JobResult(name, args.catalog, "failed", describe_error(err)))
    return jobs, failures


def _entry_jobs(top: Any, name: str, filters: dict[str, Any]) -> list[Job]:
    from ..archive.intake_plugin import CrismVolumeReader
    from ..cloud.conversion import build_catalog_jobs, build_reader_job

    reader = top[name]
    if isinstance(reader, CrismVolumeReader):
        return build_catalog_jobs(reader.read(**filters))
    if filters:
        raise CrismError(name, "filters", sorted(filters), "a volume entry (product entries take no filters)")
    return [build_reader_job(name, reader)]
