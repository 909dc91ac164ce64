"""Command line: ``xarray-crism show [LABEL] [--png FILE]`` prints a product and draws a quick look;
``xarray-crism convert`` writes Zarr stores (:mod:`xarray_crism.cli.convert`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import xarray as xr

from ..errors import CrismError
from ..samples import sample_path
from .convert import add_convert_parser, run_convert
from .download import add_download_parser, run_download
from .quicklook import write_quicklook

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xarray-crism`` console script."""
    parser = argparse.ArgumentParser(prog="xarray-crism", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print a product as a Dataset and write a quick-look PNG")
    show.add_argument(
        "label", nargs="?", default=None,
        help="PDS3 .LBL, PDS4 .xml or Mastcam-Z .IMG, path or URL (default: the shipped sample)",
    )
    show.add_argument("--png", default=None, help="write a quick look (band image + spectrum) to this PNG")
    show.add_argument("--ddr", default=None, help="'auto' or the DDR label to join")
    show.add_argument("--bayer", choices=("raw", "split"), default="raw", help="split raw Bayer mosaics into R, G, B")
    show.add_argument("--sidecar-dir", action="append", default=[], help="extra directory or URL for sidecars")
    add_convert_parser(sub)
    add_download_parser(sub)
    args = parser.parse_args(argv)
    if args.command in ("convert", "download"):
        try:
            return run_convert(args) if args.command == "convert" else run_download(args)
        except CrismError as err:
            print(f"xarray-crism: {err}", file=sys.stderr)
            return 2
    label = args.label or sample_path()
    try:
        ds = xr.open_dataset(label, engine="crism", ddr=args.ddr, sidecar_dirs=args.sidecar_dir, bayer=args.bayer)
    except CrismError as err:
        print(f"xarray-crism: {err}", file=sys.stderr)
        return 2
    print(ds)
    if args.png:
        write_quicklook(ds, args.png)
        print(f"quick look written to {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
