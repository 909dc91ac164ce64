"""Issue 19, points 4, 5 and 7: converting what you hold, catalogs as a newcomer uses them, types.

Real products (the corpus's TRDRs and Mastcam-Z RADs in generated volumes), a real HTTP server on
loopback for the chained cache, and mypy run on snippets the way an IDE user's code is checked.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import fsspec
import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.cloud.convert import DATASET_NOTE
from xarray_crism.errors import QueryError, UnsupportedSourceError

from .conftest import REPO
from .http_server import RangeServer

A, B_S = "FRT00014679_01_IF156S_TRR3", "FRT0001458F_01_IF156S_TRR3"


def _catalog(volumes: dict[str, Path], **filters: object) -> object:
    return xarray_crism.open_catalog(volumes["trdr"], ddr_volume=volumes["ddr"], cdr_volume=volumes["cdr"], **filters)


# --- point 4: converting what you hold -------------------------------------------------------------------


def test_a_dataset_converts_as_held_and_says_so(volumes: dict[str, Path], tmp_path: Path) -> None:
    cat = _catalog(volumes)
    ds = cat[A].read()  # what a newcomer holds: decoded, DDR joined
    report = xarray_crism.to_zarr(ds, tmp_path / "held.zarr", verify=True, progress=False)
    assert report.ok and report.count("converted") == 1, report.summary()
    back = xr.open_zarr(tmp_path / "held.zarr")
    np.testing.assert_array_equal(back.i_over_f.values, ds.i_over_f.values)
    np.testing.assert_array_equal(back.latitude.values, ds.latitude.values)
    record = back.attrs["xarray_crism"]
    assert record["source"] == ds.encoding["source"] and record["files"] == [] and record["note"] == DATASET_NOTE
    assert record["options"] == {"from_dataset": True, "chunks": "balanced"}
    again = xarray_crism.to_zarr(ds, tmp_path / "held.zarr", progress=False)  # never taken for done
    assert not again.ok and "never taken for a conversion already done" in again.summary()
    assert xarray_crism.to_zarr(ds.isel(band=slice(0, 3)), tmp_path / "held.zarr", mode="w", progress=False).ok
    assert xr.open_zarr(tmp_path / "held.zarr").sizes["band"] == 3


def test_an_entry_converts_from_its_files_with_its_ddr(volumes: dict[str, Path], tmp_path: Path) -> None:
    cat = _catalog(volumes)
    report = xarray_crism.to_zarr(cat[A], tmp_path / "entry.zarr", progress=False)
    assert report.ok and report.count("converted") == 1, report.summary()
    back = xr.open_zarr(tmp_path / "entry.zarr")
    record = back.attrs["xarray_crism"]
    assert record["source"] == cat[A].kwargs["data"].url and record["options"]["ddr"].endswith("_de156s_ddr1.lbl")
    assert len(record["files"]) >= 3 and all(len(f["sha256"]) == 64 for f in record["files"])
    xr.testing.assert_equal(back.i_over_f, cat[A].read().i_over_f)


def test_a_catalog_and_a_mixed_list_become_groups_and_the_report_says_how_to_open_them(
    volumes: dict[str, Path], tmp_path: Path,
) -> None:
    cat = _catalog(volumes)
    report = xarray_crism.to_zarr(cat, tmp_path / "cat.zarr", progress=False)
    assert report.ok and report.count("converted") == len(cat) == 4
    summary = report.summary()
    assert "xr.open_datatree" in summary and "group=NAME" in summary and "empty Dataset" in summary
    assert len(xr.open_zarr(tmp_path / "cat.zarr").data_vars) == 0  # what the hint warns of
    mixed = xarray_crism.to_zarr([cat[A].read(), cat[B_S]], tmp_path / "mixed.zarr", progress=False)
    assert mixed.ok and mixed.count("converted") == 2, mixed.summary()
    tree = xr.open_datatree(tmp_path / "mixed.zarr", engine="zarr")
    assert sorted(tree.children) == [B_S, A]
    assert tree[A].attrs["xarray_crism"]["files"] == [] and tree[B_S].attrs["xarray_crism"]["files"]


@pytest.mark.parametrize("bad", [1, 2.5, {"a": 1}, [1, 2], object()])
def test_anything_else_is_a_type_error_listing_what_is_accepted(bad: object, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedSourceError) as caught:
        xarray_crism.to_zarr(bad, tmp_path / "x.zarr")  # type: ignore[arg-type]
    assert isinstance(caught.value, TypeError)
    for accepted in ("path or URL", "xarray.Dataset", "catalog entry", "Intake catalog", "list"):
        assert accepted in str(caught.value)
    assert not (tmp_path / "x.zarr").exists()


def test_a_dataset_in_a_list_needs_a_product_id(volumes: dict[str, Path], tmp_path: Path) -> None:
    ds = _catalog(volumes)[A].read()
    with pytest.raises(xarray_crism.CrismError, match=r"attrs\['product_id'\]"):
        xarray_crism.to_zarr([ds.drop_attrs()], tmp_path / "x.zarr")


_PROGRESS = """
import sys
import xarray_crism
from xarray_crism.cloud import conversion
{setup}
report = xarray_crism.to_zarr({sources!r}, {store!r}, progress={progress})
assert report.ok, report.summary()
print("TQDM_AUTO" if "tqdm.autonotebook" in sys.modules else "NO_TQDM_AUTO")
"""


@pytest.mark.parametrize(("setup", "progress", "bar"), [
    ("", "None", False),  # a script: no bar by default
    ("sys.ps1 = '>>> '", "None", True),  # the Python prompt: a bar by default
    ("", "True", True),
    ("sys.ps1 = '>>> '", "False", False),
])
def test_progress_shows_by_default_in_interactive_sessions_only(
    volumes: dict[str, Path], tmp_path: Path, setup: str, progress: str, bar: bool,
) -> None:
    sources = [str(p) for p in sorted(volumes["trdr"].rglob("*_if156s_trr3.lbl"))]
    assert len(sources) == 2
    code = _PROGRESS.format(setup=setup, sources=sources, store=str(tmp_path / "p.zarr"), progress=progress)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert ("2/2" in result.stderr and "product" in result.stderr) is bar, result.stderr
    assert "NO_TQDM_AUTO" in result.stdout  # ipywidgets is absent here: the text bar, and no TqdmWarning
    assert "TqdmWarning" not in result.stderr


# --- point 5: catalogs -------------------------------------------------------------------------------------


def test_a_chained_cache_url_is_kept_for_the_index_and_every_entry(volumes: dict[str, Path], tmp_path: Path) -> None:
    fsspec.filesystem("http").clear_instance_cache()
    with RangeServer(volumes["trdr"].parent) as server:
        options = {"simplecache": {"cache_storage": str(tmp_path / "cache")}}
        cat = xarray_crism.open_catalog(
            f"simplecache::{server.url}/mrocr_2104/", ddr_volume=f"simplecache::{server.url}/mrocr_1002/",
            storage_options=options,
        )
        assert len(cat) == 4 and cat.metadata["volume_root"] == f"simplecache::{server.url}/mrocr_2104"
        entry = cat[A]
        assert entry.kwargs["data"].url.startswith(f"simplecache::{server.url}/mrocr_2104/")
        assert entry.kwargs["ddr"].startswith(f"simplecache::{server.url}/mrocr_1002/")
        remote = entry.read(mask_and_scale=False).load()
    cached = sorted(p.stat().st_size for p in (tmp_path / "cache").iterdir())
    img = volumes["trdr"] / "trdr/2009/2009_228/frt00014679/frt00014679_01_if156s_trr3.img"
    assert img.stat().st_size in cached  # the product's IMG went through the cache
    local = _catalog(volumes)[A].read(mask_and_scale=False).load()
    np.testing.assert_array_equal(remote.i_over_f.values, local.i_over_f.values)
    np.testing.assert_array_equal(remote.latitude.values, local.latitude.values)


def test_names_in_any_case_and_entries_that_name_their_product(volumes: dict[str, Path]) -> None:
    cat = _catalog(volumes)
    lower = cat["frt00014679_01_if156s_trr3"]
    assert lower.kwargs["data"].url == cat[A].kwargs["data"].url
    assert "frt00014679_01_if156s_trr3" in cat and "FRT00014679_01_If156s_TRR3" in cat and "nope" not in cat
    with pytest.raises(KeyError):
        cat["frt00014679_01_if156s_trr4"]
    text = repr(cat[A])
    assert A in text and "frt00014679_01_if156s_trr3.lbl" in text and "with its DDR" in text and "xarray.Dataset" in text
    assert sorted(cat) == sorted([A, B_S, "FRT0001458F_01_IF156L_TRR3", "HRL000040FF_07_IF183L_TRR3"])


def test_mastcamz_eye_filter_and_sequence_filters(volumes: dict[str, Path]) -> None:
    bundle = volumes["mastcamz"]
    everything = xarray_crism.open_catalog(bundle)
    left = xarray_crism.open_catalog(bundle, eye="left")
    assert sorted(left) == sorted(n for n in everything if n.startswith("ZL")) and len(left) == 2
    assert sorted(xarray_crism.open_catalog(bundle, eye=["L", "r"])) == sorted(everything)
    seq = xarray_crism.open_catalog(bundle, sequence_id="zcam03014")
    assert sorted(seq) == sorted(n for n in everything if "ZCAM03014" in n) and len(seq) == 2
    assert list(xarray_crism.open_catalog(bundle, sequence_id="ZCAM03014", eye="R")) == [
        "ZR0_0711_0730060638_443RAD_N0332864ZCAM03014_048085A01"
    ]
    assert len(xarray_crism.open_catalog(bundle, filter=0)) == 4 and len(xarray_crism.open_catalog(bundle, filter="1")) == 0
    meta = everything["ZL0_0709_0729888971_069RAD_N0332864ZCAM07114_0340LMA01"].metadata
    assert (meta["sequence_id"], meta["filter"], meta["sensor"]) == ("ZCAM07114", "0", "L")
    with pytest.raises(QueryError, match="eye = 'MIDDLE'"):
        xarray_crism.open_catalog(bundle, eye="middle")
    with pytest.raises(QueryError, match="SENSOR_ID\\+SOL"):
        xarray_crism.open_catalog(volumes["trdr"], eye="L")


def test_sequence_id_is_the_labels_own(volumes: dict[str, Path]) -> None:
    """The sequence ID read from the file name is the one the product's label holds."""
    cat = xarray_crism.open_catalog(volumes["mastcamz"])
    for name in cat:
        head = Path(cat[name].kwargs["data"].url).read_bytes()[:20000].decode("latin-1")
        lines = [line for line in head.splitlines() if line.strip().startswith("SEQUENCE_ID ")]
        (value,) = [line.split("=")[1].strip().strip('"') for line in lines]
        assert value.upper() == cat[name].metadata["sequence_id"]


def test_docs_say_a_converted_catalog_is_a_tree() -> None:
    text = (REPO / "docs" / "zarr.md").read_text()
    assert "open_datatree" in text and "empty Dataset" in text


# --- point 7: types ------------------------------------------------------------------------------------------

_GOOD = """
from pathlib import Path

import xarray as xr

import xarray_crism

report = xarray_crism.to_zarr("product.lbl", "out.zarr", ddr="auto", progress=False)
ok: bool = report.ok
cat = xarray_crism.open_catalog("/archive/mrocr_2104", observation_id="00014679", bbox=(137, -5, 138, -4), eye="L")
index = xarray_crism.read_index(Path("index.lbl"))
cube: xr.Dataset = xarray_crism.stack_filters(["a.IMG", "b.IMG"])
sample: str = xarray_crism.sample_path()
"""
_BAD = """
import xarray_crism

xarray_crism.to_zarr(1, 2, 3)
xarray_crism.open_catalog("x", sol="many")
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """mypy --strict run once on two snippets, the public API used right (good.py) and wrong (bad.py)."""
    directory = tmp_path_factory.mktemp("mypy")
    (directory / "good.py").write_text(textwrap.dedent(_GOOD))
    (directory / "bad.py").write_text(textwrap.dedent(_BAD))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental", "--cache-dir",
         str(directory / "cache"), "good.py", "bad.py"],
        capture_output=True, text=True, cwd=directory, env={"MYPYPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=600,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.stdout


def test_mypy_accepts_the_public_api_used_right(mypy_output: str) -> None:
    assert "good.py" not in mypy_output, mypy_output


def test_mypy_refuses_the_public_api_used_wrong(mypy_output: str) -> None:
    bad = [line for line in mypy_output.splitlines() if line.startswith("bad.py:")]
    assert any('Argument 1 to "to_zarr" has incompatible type "int"' in line for line in bad), mypy_output
    assert any('Argument 2 to "to_zarr" has incompatible type "int"' in line for line in bad), mypy_output
    assert any('Argument "sol" to "open_catalog" has incompatible type "str"' in line for line in bad), mypy_output


def test_dir_lists_the_lazy_functions_without_importing_them() -> None:
    code = ("import sys, xarray_crism; names = dir(xarray_crism); "
            "print(all(n in names for n in xarray_crism.__all__), 'xarray_crism.cloud.conversion' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.stdout.split() == ["True", "False"], result.stderr


def test_the_backend_open_dataset_has_a_docstring_with_its_keywords() -> None:
    from xarray_crism.xr.backend import CrismBackendEntrypoint

    for method in (CrismBackendEntrypoint.open_dataset, CrismBackendEntrypoint.open_datatree):
        doc = method.__doc__ or ""
        assert "ddr" in doc and "bayer" in doc
