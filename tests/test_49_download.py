"""``xarray-crism download`` against a local mirror with the public layout, served over HTTP (Range server)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import fsspec
import numpy as np
import pytest
import xarray as xr

from xarray_crism.archive.download import copy_file
from xarray_crism.errors import RemoteReadError
from xarray_crism.io.sources import open_source

from .http_server import RangeServer

MIRROR = {  # public layout below the archive roots -> generated volume
    "mro/mro-m-crism-3-rdr-targeted-v1/mrocr_2104": "trdr", "mro/mro-m-crism-6-ddr-v1/mrocr_1002": "ddr",
    "mro/mro-m-crism-2-edr-v1/mrocr_0001": "cdr", "mars2020/mars2020_mastcamz_sci_calibrated": "mastcamz",
}
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def mirror(volumes: dict[str, Path], tmp_path: Path) -> Iterator[RangeServer]:
    """The generated volumes laid out as on the PDS servers, served over HTTP."""
    for where, kind in MIRROR.items():
        (tmp_path / "www" / where).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "www" / where).symlink_to(volumes[kind], target_is_directory=True)
    fsspec.filesystem("http").clear_instance_cache()
    with RangeServer(tmp_path / "www") as server:
        yield server


def _download(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xarray_crism.cli", "download", *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_download_copies_an_observation_with_its_wa_cdr_and_ddr_and_it_opens(
    mirror: RangeServer, volumes: dict[str, Path], tmp_path: Path,
) -> None:
    dest = tmp_path / "data"
    run = _download("FRT00014679", "--volume", "mrocr_2104", "--root", f"{mirror.url}/mro", "--to", str(dest))
    assert run.returncode == 0, run.stderr
    names = sorted(p.name for p in dest.iterdir())
    assert names == ["cdr450924300802_wa0300000s_2.img", "cdr450924300802_wa0300000s_2.lbl",
                     "frt00014679_01_de156s_ddr1.img", "frt00014679_01_de156s_ddr1.lbl",
                     "frt00014679_01_if156s_trr3.img", "frt00014679_01_if156s_trr3.lbl"]
    assert "1 product(s), 6 file(s) copied, 0 present" in run.stdout
    assert "not found: frt00014679_01_if156s_trr3.lbl: FRT00014679_01_RA156S_HKP3.TAB" in run.stdout  # not in the volume
    for name in ("frt00014679_01_if156s_trr3.img", "frt00014679_01_if156s_trr3.lbl"):
        assert (dest / name).read_bytes() == (CORPUS / "crism" / "trdr" / name).read_bytes()
    ds = xr.open_dataset(dest / "frt00014679_01_if156s_trr3.lbl", engine="crism", ddr="auto")
    assert ds.wavelength.attrs["source"] == "CDR450924300802_WA0300000S_2 (WA CDR4, SW definition)"
    assert ds.attrs["ddr_product_id"] == "FRT00014679_01_DE156S_DDR1" and "latitude" in ds
    ddr = next((volumes["ddr"] / "ddr").rglob("frt00014679_01_de156s_ddr1.img"))
    assert (dest / "frt00014679_01_de156s_ddr1.img").read_bytes() == ddr.read_bytes()
    assert not list(dest.glob(".*.part"))


def test_a_second_download_fetches_nothing_and_no_ddr_leaves_the_ddr_out(mirror: RangeServer, tmp_path: Path) -> None:
    args = ("00014679", "--volume", "mrocr_2104", "--root", f"{mirror.url}/mro", "--to", str(tmp_path / "d"), "--no-ddr")
    assert _download(*args).returncode == 0
    mirror.reset()
    again = _download(*args)
    assert "1 product(s), 0 file(s) copied, 4 present" in again.stdout
    assert not [p for p, _ in mirror.httpd.log if p.endswith(".img")]  # no data file read again
    assert not list((tmp_path / "d").glob("*ddr1*"))


def test_download_a_mastcamz_product_from_the_imaging_layout(mirror: RangeServer, tmp_path: Path) -> None:
    name = "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02"
    run = _download("--volume", "mastcamz", "--root", f"{mirror.url}/mars2020", "--sol", "711",
                    "--product-id", "ZL0_0711_0730054943*", "--to", str(tmp_path / "d"))  # the README's command
    assert run.returncode == 0, run.stderr
    dest = tmp_path / "d"
    assert "1 product(s), 1 file(s) copied" in run.stdout and [p.name for p in dest.iterdir()] == [f"{name}.IMG"]
    assert (dest / f"{name}.IMG").read_bytes() == (CORPUS / "mastcamz" / "rad" / f"{name}.IMG").read_bytes()
    assert xr.open_dataset(dest / f"{name}.IMG", engine="crism").radiance.shape == (3, 688, 624)


@pytest.mark.parametrize(("args", "message"), [
    (("--volume", "mrocr_2104"), "observation_id = None; expected a filter that picks a few products"),
    (("X", "--volume", "mrocr_9999"), "volume = 'mrocr_9999'; expected a public volume name"),
    (("--volume", "mastcamz", "--sol", "711", "--max-products", "1"), "products matched = 3; expected at most max_products=1"),
    (("FFFFFFFF", "--volume", "mrocr_2104"), "filters = {'observation_id': ['FFFFFFFF']}; expected filters that match"),
])
def test_download_errors_name_what_to_change(mirror: RangeServer, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    root = f"{mirror.url}/mars2020" if "mastcamz" in args else f"{mirror.url}/mro"
    run = _download(*args, "--root", root, "--to", str(tmp_path))
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_a_transfer_cut_short_leaves_no_file_under_its_name(mirror: RangeServer, tmp_path: Path) -> None:
    source = open_source(f"{mirror.url}/mro/mro-m-crism-3-rdr-targeted-v1/mrocr_2104/trdr/2009/2009_228/frt00014679/"
                         "frt00014679_01_if156s_trr3.img", None)
    dest = tmp_path / "dl"
    dest.mkdir()
    mirror.reset(faults=["drop"])
    with pytest.raises(RemoteReadError, match=r"frt00014679_01_if156s_trr3\.img"):
        copy_file(source, dest)
    assert list(dest.iterdir()) == []
    copied = copy_file(source, dest)
    assert copied.status == "copied" and copied.size == 411_136
    values = np.fromfile(copied.path, dtype="<f4", count=10)
    assert np.array_equal(values, np.fromfile(CORPUS / "crism" / "trdr" / copied.path.name, dtype="<f4", count=10))
