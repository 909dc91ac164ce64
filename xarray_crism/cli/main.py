"""Command line: ``xarray-crism show [LABEL] [--png FILE]`` prints a product and draws a quick look;
``xarray-crism convert`` writes Zarr stores (:mod:`xarray_crism.cli.convert`); ``xarray-crism download``
copies real products from an archive (:mod:`xarray_crism.cli.download`)."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence

import xarray as xr

from ..cloud.convert import describe_error
from ..errors import CrismError, cli_wording
from ..samples import sample_path
from ..version import __version__
from .convert import add_convert_parser, plain_text, run_convert
from .download import add_download_parser, run_download
from .quicklook import write_quicklook

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xarray-crism`` console script.

    Errors on bad input (a package error, a missing file) print one line, with the hint worded for
    the command line (:func:`~xarray_crism.errors.cli_wording`), and exit with status 2.
    """
    warnings.formatwarning = format_warning
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras and (args.command != "convert" or any(e.startswith("-") for e in extras)):
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    if extras:  # options between the paths (SOURCE --ddr auto STORE): argparse leaves the later paths over
        paths: list[str] = [*args.sources, args.store, *extras]
        args.sources, args.store = paths[:-1], paths[-1]
    try:
        return _COMMANDS[args.command](args)
    except (CrismError, OSError) as err:
        print(f"xarray-crism: {cli_wording(describe_error(err))}", file=sys.stderr)
        return 2


def format_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None,
) -> str:
    """A warning as one line, ``xarray-crism: warning: ...``, its hints worded for the command line."""
    return f"xarray-crism: warning: {cli_wording(' '.join(str(message).split()))}\n"


def build_parser() -> argparse.ArgumentParser:
    """The ``xarray-crism`` parser: ``--version``, ``show``, ``convert`` and ``download`` (help without reST markup)."""
    parser = argparse.ArgumentParser(prog="xarray-crism", description=plain_text(__doc__ or ""))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    return parser


def run_show(args: argparse.Namespace) -> int:
    """Print the product (and write its quick look); errors propagate to :func:`main`."""
    label = args.label or sample_path()
    ds = xr.open_dataset(label, engine="crism", ddr=args.ddr, sidecar_dirs=args.sidecar_dir, bayer=args.bayer)
    print(ds)
    if args.png:
        write_quicklook(ds, args.png)
        print(f"quick look written to {args.png}")
    return 0


#: Sub-command -> what runs it.
_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "show": run_show, "convert": run_convert, "download": run_download,
}


if __name__ == "__main__":
    sys.exit(main())
