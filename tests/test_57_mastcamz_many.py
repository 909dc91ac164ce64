"""Mastcam-Z: stacking filters, remote reads of attached labels, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism import LabelNotFoundError, LabelValueError, ShapeMismatchError, TruncatedFileError
from xarray_crism.model.mastcamz import FILTERS
from xarray_crism.testing.pds4 import write_mastcamz_img

from .conftest import CORPUS
from .http_server import RangeServer

RAD = CORPUS / "mastcamz" / "rad"
TEMPLATE = RAD / "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02.IMG"
SHAPE = (24, 32)


def _iof(directory: Path, filter_number: int, seed: int, *, shape: tuple[int, int] = SHAPE, **replace: str) -> Path:
    """A left-eye IOF of one filter, float32, from the real RAD header."""
    bands = 3 if filter_number == 0 else 1
    waves = "(630 <nm>,544 <nm>,480 <nm>)" if filter_number == 0 else f"{FILTERS[f'L{filter_number}'][0]} <nm>"
    pid = f"ZL{filter_number}_0711_0730054943_723IOF_N0332864ZCAM03014_048085A02"
    data = np.random.default_rng(seed).uniform(0.05, 0.5, (bands, *shape)).astype(">f4")
    fields = {"FILTER_NUMBER": str(filter_number), "CENTER_FILTER_WAVELENGTH": waves, **replace}
    return write_mastcamz_img(directory / f"{pid}.IMG", TEMPLATE, data, product_id=pid, replace=fields)


@pytest.fixture
def sequence(tmp_path: Path) -> list[Path]:
    return [_iof(tmp_path, n, seed=n) for n in (3, 0, 6, 1, 5, 2, 4)]


def test_stack_filters_sorts_by_wavelength(sequence: list[Path]) -> None:
    cube = xarray_crism.stack_filters(sequence)
    expected = sorted([630, 544, 480] + [FILTERS[f"L{n}"][0] for n in range(1, 7)])
    np.testing.assert_array_equal(cube.wavelength.values, expected)
    assert list(cube.filter_name.values) == ["L6", "L0B", "L5", "L0G", "L4", "L0R", "L3", "L2", "L1"]
    assert cube.i_over_f.dims == ("band", "line", "sample") and cube.i_over_f.shape == (9, *SHAPE)
    np.testing.assert_array_equal(cube.bandwidth.values[[1, 3, 5]], [46, 41, 43])
    # Every band holds the values of the product it came from.
    for band in range(9):
        source = xr.open_dataset(next(p for p in sequence if p.stem == cube.product_id.values[band]), engine="crism")
        np.testing.assert_array_equal(cube.i_over_f[band].values, source.i_over_f[int(cube.product_band[band])].values)
    assert cube.attrs["eye"] == "left" and "pds_label" not in cube.attrs and cube.attrs["sol"] == 711


def test_stack_filters_refuses_other_sizes(sequence: list[Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    odd = _iof(other, 7, seed=9, shape=(24, 30), CENTER_FILTER_WAVELENGTH="590 <nm>")
    with pytest.raises(ShapeMismatchError, match=r"LINES x LINE_SAMPLES = \(24, 30\).*share a size") as err:
        xarray_crism.stack_filters([*sequence, odd])
    assert str(odd) in str(err.value)


def test_stack_filters_refuses_other_pointing_and_groups_help(sequence: list[Path], tmp_path: Path) -> None:
    other = tmp_path / "moved"
    other.mkdir()
    moved = _iof(other, 2, seed=11, ROVER_MOTION_COUNTER="(33,2864,12,0,0,0,343,204,0,0)")
    with pytest.raises(LabelValueError, match="group_by_pointing"):
        xarray_crism.stack_filters([*sequence, moved])
    groups = xarray_crism.group_by_pointing([*sequence, moved])
    assert sorted(len(v) for v in groups.values()) == [1, len(sequence)]
    assert "left 33-2864-12-0-0-0-343-204-0-0" in groups


def test_stack_of_raw_bayer_needs_split() -> None:
    raw = sorted(p for p in RAD.glob("ZL0*.IMG") if "ZCAM07114" in p.name)
    with pytest.raises(LabelValueError, match="bayer='split'"):
        xarray_crism.stack_filters(raw, bayer="raw")
    cube = xarray_crism.stack_filters(raw)
    np.testing.assert_array_equal(cube.wavelength.values, [480, 544, 630])


def test_wavelengths_fall_back_to_the_filter_table(tmp_path: Path) -> None:
    path = _iof(tmp_path, 4, seed=1, CENTER_FILTER_WAVELENGTH='"N/A"')
    ds = xr.open_dataset(path, engine="crism")
    np.testing.assert_array_equal(ds.wavelength.values, [605])
    assert "Hayes et al. 2021" in ds.wavelength.attrs["source"]


def test_open_over_http_reads_the_label_records_only(http_root: tuple[Path, RangeServer]) -> None:
    root, server = http_root
    shutil.copy(TEMPLATE, root / TEMPLATE.name)
    server.reset()
    ds = xr.open_dataset(f"{server.url}/{TEMPLATE.name}", engine="crism")
    # one GET of the first 64 KiB (of 4 MB), whose Content-Range gives the size: the 26 x 1248-byte ODL header
    # is in it, so no HEAD and no second GET for the rest of the label records
    assert (server.httpd.requests, server.bytes_sent) == (1, 64 * 1024) and 26 * 1248 < 64 * 1024
    server.reset()
    local = xr.open_dataset(TEMPLATE, engine="crism")
    np.testing.assert_array_equal(ds.radiance.isel(band=1, line=100).values, local.radiance.isel(band=1, line=100).values)
    assert server.bytes_sent == 624 * 2  # one line of one band


def test_data_file_without_attached_label_opens_through_its_detached_label(tmp_path: Path) -> None:
    from .conftest import CRISM

    for f in (CRISM / "trdr").glob("frt00014679_01_if156s_trr3.*"):
        shutil.copy(f, tmp_path / f.name)
    via_img = xr.open_dataset(tmp_path / "frt00014679_01_if156s_trr3.img", engine="crism", mask_and_scale=False)
    via_lbl = xr.open_dataset(tmp_path / "frt00014679_01_if156s_trr3.lbl", engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(via_img.i_over_f.values, via_lbl.i_over_f.values)
    (tmp_path / "frt00014679_01_if156s_trr3.lbl").unlink()
    with pytest.raises(LabelNotFoundError, match=r"frt00014679_01_if156s_trr3.img: label = .*LBL.*without its label"):
        xr.open_dataset(tmp_path / "frt00014679_01_if156s_trr3.img", engine="crism")  # issue 19: names the label


def test_truncated_img_and_bad_bayer_option(tmp_path: Path) -> None:
    path = tmp_path / TEMPLATE.name
    path.write_bytes(TEMPLATE.read_bytes()[:-1000])
    with pytest.raises(TruncatedFileError, match="file size"):
        xr.open_dataset(path, engine="crism")
    with pytest.raises(LabelValueError, match=r"bayer = 'rgb'; expected one of \('raw', 'split'\)"):
        xr.open_dataset(TEMPLATE, engine="crism", bayer="rgb")


def test_open_mfdataset_recipe_matches_stack_filters(sequence: list[Path]) -> None:
    cube = xarray_crism.stack_filters(sequence)
    mf = xr.open_mfdataset(
        sequence, engine="crism", combine="nested", concat_dim="band", coords="different", compat="equals",
        combine_attrs="drop_conflicts",
    ).sortby("wavelength")
    np.testing.assert_array_equal(mf.wavelength.values, cube.wavelength.values)
    np.testing.assert_array_equal(mf.i_over_f.values, cube.i_over_f.values)


def test_pds4_label_over_http_reads_the_label_only(http_root: tuple[Path, RangeServer]) -> None:
    from xarray_crism.testing.pds4 import write_img_for_pds4

    from .conftest import CORPUS as corpus

    root, server = http_root
    label = next((corpus / "mastcamz" / "labels").glob("*.xml"))
    shutil.copy(label, root / label.name)
    _, written = write_img_for_pds4(label, root)
    server.reset()
    ds = xr.open_dataset(f"{server.url}/{label.name}", engine="crism", mask_and_scale=False)
    assert server.bytes_sent == label.stat().st_size
    server.reset()
    np.testing.assert_array_equal(ds.radiance.isel(band=2, line=[10, 11]).values, written[2, 10:12])
    assert server.bytes_sent == 2 * 1648 * 2


def test_cli_shows_a_split_mastcamz_product(capsys: pytest.CaptureFixture[str]) -> None:
    from xarray_crism.cli import main

    raw = next(p for p in RAD.glob("ZR0*.IMG") if "ZCAM03552" in p.name)
    assert main(["show", str(raw), "--bayer", "split"]) == 0
    out = capsys.readouterr().out
    assert "(band: 3, line: 600, sample: 824)" in out and "wavelength" in out
