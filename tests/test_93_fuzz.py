"""Layer 9: fuzzed labels, seeded from the real corpus (see ``fuzzing.py``; ``tools/fuzz.py`` for a campaign).

Each target reads one mutated file the way users do and must either succeed or raise a package
error, within the time and allocation bounds. Kept failures are replayed first.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import xarray_crism
from xarray_crism.labels.pds3 import parse_label
from xarray_crism.labels.pds4 import parse_pds4_label
from xarray_crism.model.read import read_product

from .conftest import CORPUS, CRISM
from .fuzzing import FUZZ_SETTINGS, check_input, mutations, regression_cases, save_failures, write_report

MASTCAMZ = sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))
HEAD = 40_000  # bytes of a Mastcam-Z IMG mutated: its attached header and the first image lines
SIDECAR_DIRS = [str(CRISM / "cdr"), str(CRISM / "cdr6")]


def _read(paths: list[Path], limit: int | None = None) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()[:limit]) for p in paths]


PDS3_SEEDS = _read(sorted(
    p for p in CRISM.rglob("*") if p.suffix.lower() in (".lbl", ".cat") and p.is_file()
))
OPEN_SEEDS = _read(sorted((CRISM / "trdr").glob("*.lbl")) + sorted((CRISM / "cdr").glob("*.LBL")))
ATTACHED_SEEDS = _read(MASTCAMZ, HEAD)
PDS4_SEEDS = _read(sorted((CORPUS / "mastcamz" / "labels").glob("*.xml")))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The data files the labels point at (copied once); mutated labels are written beside them."""
    root = tmp_path_factory.mktemp("fuzz")
    for sub in ("trdr", "cdr"):
        for f in (CRISM / sub).glob("*.[iI][mM][gG]"):
            shutil.copy(f, root / f.name)
    for _, text in PDS4_SEEDS:  # zero-filled data files of the sizes the PDS4 labels describe
        for area in parse_pds4_label(text.decode(), "seed").file_areas:
            size = max(a.offset + math.prod(x.elements for x in a.axes) * 8 for a in area.arrays)
            (root / area.file_name).write_bytes(bytes(size))
    yield root


@pytest.fixture(scope="module", autouse=True)
def _warm_up(workdir: Path, volumes: dict[str, Path]) -> None:
    """Import what the first input of each target would (backend entry points, GDAL, pandas) outside
    the time bounds: an import cut by the bound is swallowed by xarray's plugin loader."""
    xr.backends.list_engines()
    _open_and_touch(MASTCAMZ[0])
    _open_and_touch(next((CRISM / "trdr").glob("*.lbl")), sidecar_dirs=SIDECAR_DIRS)
    xarray_crism.read_index(volumes["trdr"] / "index" / "cumindex.lbl")


@pytest.fixture(scope="module", autouse=True)
def _keep_failures() -> Iterator[None]:
    """At the end of the module: keep the smallest failing input of each failure, write the report."""
    yield
    save_failures()
    write_report(os.environ.get("XARRAY_CRISM_FUZZ_REPORT"))


def _open_and_touch(path: Path, **kwargs: object) -> None:
    """Open like a user, then read the first two elements along every dimension of every variable."""
    with xr.open_dataset(path, engine="crism", **kwargs) as ds:
        for var in ds.variables.values():
            var.isel({d: slice(0, 2) for d in var.dims}).values  # noqa: B018 - the read is the point


def _index_seeds(volume: Path) -> list[tuple[str, bytes]]:
    return _read([volume / "index" / "cumindex.lbl", volume / "index" / "cumindex.tab"])


def _target(name: str, workdir: Path, volumes: dict[str, Path]) -> Callable[[str, bytes], object]:
    """The reader of one target: (file name, bytes) -> result."""
    def pds3_parse(filename: str, data: bytes) -> object:
        return parse_label(data.decode("latin-1"), filename)

    def pds3_open(filename: str, data: bytes) -> object:
        (workdir / filename).write_bytes(data)
        try:
            return _open_and_touch(workdir / filename, sidecar_dirs=SIDECAR_DIRS)
        finally:  # a mutated WA label left here would be the next TRDR input's wavelength sidecar
            (workdir / filename).unlink()

    def attached(filename: str, data: bytes) -> object:
        original = next(p for p in MASTCAMZ if p.name == filename).read_bytes()
        (workdir / filename).write_bytes(data + original[HEAD:])
        return _open_and_touch(workdir / filename)

    def pds4(filename: str, data: bytes) -> object:
        (workdir / filename).write_bytes(data)
        try:
            parse_pds4_label(data.decode("utf-8", "replace"), filename)
            return read_product(workdir / filename)
        finally:
            (workdir / filename).unlink()

    def index(filename: str, data: bytes) -> object:
        directory = workdir / "index"
        directory.mkdir(exist_ok=True)
        for seed_name, seed in _index_seeds(volumes["trdr"]):
            (directory / seed_name).write_bytes(data if seed_name == filename else seed)
        return xarray_crism.read_index(directory / "cumindex.lbl")

    return {"pds3_parse": pds3_parse, "pds3_open": pds3_open, "attached": attached, "pds4": pds4,
            "index": index}[name]


@pytest.mark.parametrize(("target", "filename", "path"), list(regression_cases()),
                         ids=[p.name[-12:] for _, _, p in regression_cases()])
def test_kept_failures_stay_fixed(
    target: str, filename: str, path: Path, workdir: Path, volumes: dict[str, Path],
) -> None:
    data = path.read_bytes()
    check_input(target, filename, data, lambda: _target(target, workdir, volumes)(filename, data))


@FUZZ_SETTINGS
@given(case=mutations(PDS3_SEEDS))
def test_pds3_parser(case: tuple[str, bytes]) -> None:
    check_input("pds3_parse", *case, lambda: parse_label(case[1].decode("latin-1"), case[0]))


@FUZZ_SETTINGS
@given(case=mutations(OPEN_SEEDS))
def test_pds3_products_open_and_read(case: tuple[str, bytes], workdir: Path, volumes: dict[str, Path]) -> None:
    check_input("pds3_open", *case, lambda: _target("pds3_open", workdir, volumes)(*case))


@FUZZ_SETTINGS
@given(case=mutations(ATTACHED_SEEDS))
def test_attached_headers_open_and_read(case: tuple[str, bytes], workdir: Path, volumes: dict[str, Path]) -> None:
    check_input("attached", *case, lambda: _target("attached", workdir, volumes)(*case))


@FUZZ_SETTINGS
@given(case=mutations(PDS4_SEEDS))
def test_pds4_labels(case: tuple[str, bytes], workdir: Path, volumes: dict[str, Path]) -> None:
    check_input("pds4", *case, lambda: _target("pds4", workdir, volumes)(*case))


@FUZZ_SETTINGS
@given(data=st.data())
def test_index_tables(data: st.DataObject, workdir: Path, volumes: dict[str, Path]) -> None:
    case = data.draw(mutations(_index_seeds(volumes["trdr"])))
    check_input("index", *case, lambda: _target("index", workdir, volumes)(*case))

