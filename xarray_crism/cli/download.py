"""``xarray-crism download``: copy one observation's products from the public archive (or a mirror).

    xarray-crism download frt00014679 --volume mrocr_2104 --sensor S --product-type IF
    xarray-crism download --volume mastcamz --sol 711 --sensor L --product-type RAD --product-id 'ZL0_*A02'
    xarray-crism download frt00014679 --volume mrocr_2104 --root https://mirror.example/mro --to data/

``--volume`` is a public volume name (``mrocr_2101`` ... ``mrocr_2116`` TRDRs with their DDR and CDR
volumes, ``mrocr_1001`` ... DDRs, ``mastcamz``) found below ``--root`` (default: the PDS Geosciences
Node, or PDS Imaging for Mastcam-Z), or any volume root or index label (path or URL; then
``--ddr-volume``/``--cdr-volume`` name its companions). Files land in ``--to`` (default: the current
directory), each written aside and renamed when its size is checked; files already there are kept.
Exit status 0 when everything was copied or present, 2 when the command is wrong or a copy failed.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..archive.download import DownloadReport, download_products
from ..archive.public import VolumeSet, build_volume_set

__all__ = ["add_download_parser", "run_download"]

_FILTERS = ("class_type", "product_type", "sensor", "product_id", "start", "stop")


def add_download_parser(sub: Any) -> None:
    """Register the ``download`` subcommand on an argparse sub-parser collection."""
    p = sub.add_parser("download", help="copy an observation's products from the PDS archive (or a mirror)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("observation_id", nargs="?", default=None, help="observation (FRT00014679 or 00014679)")
    p.add_argument("--volume", required=True, help="public volume name (mrocr_2104, mastcamz) or a volume root/URL")
    p.add_argument("--root", default=None, help="archive root of a mirror with the public layout (volume names only)")
    p.add_argument("--ddr-volume", default=None, help="DDR volume root (volume URLs; names bring their own)")
    p.add_argument("--cdr-volume", default=None, help="CDR volume root, for the WA CDR (volume URLs; names bring their own)")
    for name in _FILTERS:
        p.add_argument(f"--{name.replace('_', '-')}", help=f"catalog filter {name}")
    p.add_argument("--sol", type=int, nargs="+", default=None, help="Mastcam-Z sol, or first and last sol")
    p.add_argument("--no-ddr", action="store_true", help="leave the DDRs out")
    p.add_argument("--max-products", type=int, default=20, help="refuse to copy more products than this (default 20)")
    p.add_argument("--to", default=".", help="local directory for the files (created; default: here)")
    p.add_argument("--storage-options", type=json.loads, default=None, help="JSON fsspec options for the archive")


def run_download(args: argparse.Namespace) -> int:
    """Run ``download``: copy the files and print one line per file and where the labels are."""
    volumes = _volume_set(args)
    filters = {name: getattr(args, name) for name in _FILTERS if getattr(args, name) is not None}
    sol = None if args.sol is None else (args.sol[0] if len(args.sol) == 1 else tuple(args.sol))
    report = download_products(
        volumes.volume, args.to, ddr_volume=volumes.ddr_volume, cdr_volume=volumes.cdr_volume, ddr=not args.no_ddr,
        storage_options=args.storage_options, max_products=args.max_products,
        observation_id=args.observation_id, sol=sol, **filters,
    )
    print_report(report)
    return 0


def _volume_set(args: argparse.Namespace) -> VolumeSet:
    if "/" in args.volume or "\\" in args.volume:
        return VolumeSet(args.volume, args.ddr_volume, args.cdr_volume)
    named = build_volume_set(args.volume, args.root)
    return VolumeSet(named.volume, args.ddr_volume or named.ddr_volume, args.cdr_volume or named.cdr_volume)


def print_report(report: DownloadReport) -> None:
    """One line per file, the companions not found, and the labels to open."""
    for f in report.files:
        print(f"{f.status:8} {f.size:>12,} {f.path}")
    for name in report.missing:
        print(f"not found: {name}")
    print(f"{len(report.products)} product(s), {report.count('copied')} file(s) copied, {report.count('present')} present")
    for label in report.labels:
        print(f"open with: xr.open_dataset({str(label)!r}, engine='crism')")
