"""Whole observations and tiles as DataTrees: ``xr.open_datatree(path, engine="crism")``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from xarray_crism.formats.wv_tables import parse_wv_table
from xarray_crism.testing import write_cube
from xarray_crism.testing.maps import equirectangular_grid, write_map_product

from .conftest import CRISM
from .test_40_map_products import MRDR_DE_LABEL, MRDR_LABEL, MRDR_WV, MTRDR_WV
from .test_60_generated import DDR_NAMES, DDR_TEMPLATE

DE_NAMES = [
    "Solar longitude, deg", "Solar distance, AU", "Observation ID, VNIR", "Observation ID, IR", "Ordinal counter, VNIR",
    "Ordinal counter, IR", "Column number, VNIR", "Column number, IR", "Line, or frame number, VNIR",
    "Line, or frame number, IR", *DDR_NAMES,
]


def _rand(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _mtrdr_set(tmp_path: Path) -> dict[str, np.ndarray]:
    grid = equirectangular_grid(-4.6, -4.605, 137.4, 137.406, 1920)
    shape = (grid.lines, grid.samples)
    written = {"IF": _rand((489, *shape), 0), "SU": _rand((3, *shape), 1), "SR": _rand((3, *shape), 2),
               "IN": _rand((2, *shape), 3), "DE": _rand((len(DDR_NAMES), *shape), 4)}
    names = {"SU": ["R770", "BD1900_2", "OLINDEX3"], "SR": ["R770", "BD1900_2", "OLINDEX3"], "IN": ["Spectral smile", "Noise"],
             "DE": DDR_NAMES}
    for code, data in written.items():
        write_map_product(tmp_path, MRDR_LABEL, f"FRT00003E12_07_{code}166J_MTR3", data, grid, band_names=names.get(code))
    write_map_product(tmp_path, MRDR_LABEL, "FRT00003E12_07_IF166J_MTR2", written["IF"] * 0, grid)  # older version
    write_map_product(tmp_path, MRDR_LABEL, "FRT00003E13_07_SU166J_MTR3", written["SU"], grid, band_names=names["SU"])
    shutil.copy(MTRDR_WV, tmp_path / "frt00003e12_07_wv166j_mtr3.tab")
    return written


def test_mtrdr_observation_opens_as_a_tree(tmp_path: Path) -> None:
    written = _mtrdr_set(tmp_path)
    tree = xr.open_datatree(tmp_path / "frt00003e12_07_su166j_mtr3.lbl", engine="crism", mask_and_scale=False)
    assert sorted(tree.children) == ["DE", "IF", "IN", "SR", "SU", "WV"]
    assert tree.attrs["product_set"] == "FRT00003E12_07"
    np.testing.assert_array_equal(tree["IF"]["i_over_f"].values, written["IF"])  # version 3, not 2
    assert tree["IF"].ds.attrs["product_id"] == "FRT00003E12_07_IF166J_MTR3"
    np.testing.assert_array_equal(tree["SU"]["bd1900_2"].values, written["SU"][1])
    np.testing.assert_array_equal(tree["IN"]["noise"].values, written["IN"][1])
    np.testing.assert_array_equal(tree["DE"]["incidence_angle"].values, written["DE"][DDR_NAMES.index("INA at areoid, deg")])
    wv = parse_wv_table(MTRDR_WV.read_text(encoding="ascii"), "wv_targeted", "x")
    np.testing.assert_array_equal(tree["WV"]["wavelength"].values, wv["wavelength"])
    np.testing.assert_array_equal(tree["IF"]["wavelength"].values, wv["wavelength"])
    assert tree["IF"]["i_over_f"].dims == ("band", "y", "x")
    np.testing.assert_array_equal(tree["IF"]["x"].values, tree["DE"]["x"].values)
    groups = xr.open_groups(tmp_path / "frt00003e12_07_if166j_mtr3.lbl", engine="crism")
    assert sorted(groups) == ["/", "/DE", "/IF", "/IN", "/SR", "/SU", "/WV"]


def test_mrdr_tile_opens_as_a_tree(tmp_path: Path) -> None:
    grid = equirectangular_grid(-2.5, -2.52, 110.0, 110.03, 256, center_latitude=-2.5)
    shape = (grid.lines, grid.samples)
    data = {"IF": _rand((72, *shape), 0), "AL": _rand((72, *shape), 1), "SU": _rand((2, *shape), 2),
            "DE": _rand((24, *shape), 3), "DL": _rand((24, *shape), 4)}
    for code, cube in data.items():
        template = MRDR_DE_LABEL if code in ("DE", "DL") else MRDR_LABEL
        names = {"SU": ["BD2100", "OLINDEX"], "DE": DE_NAMES, "DL": DE_NAMES}.get(code)
        write_map_product(tmp_path, template, f"T0897_MRR{code}_05S113_0256_1", cube, grid, band_names=names,
                          wavelength_file="T0897_MRRWV_05S113_0256_1.TAB" if code in ("IF", "AL") else None)
    shutil.copy(MRDR_WV, tmp_path / MRDR_WV.name)
    tree = xr.open_datatree(tmp_path / "t0897_mrral_05s113_0256_1.lbl", engine="crism", mask_and_scale=False)
    assert sorted(tree.children) == ["AL", "DE", "DL", "IF", "SU", "WV"]
    assert tree.attrs["product_set"] == "T0897_05S113_0256"
    np.testing.assert_array_equal(tree["AL"]["lambert_albedo"].values, data["AL"])
    np.testing.assert_array_equal(tree["DL"]["solar_longitude"].values, data["DL"][0])
    assert tree["WV"]["sensor"].values[0] == "S" and tree["WV"].sizes["band"] == 72
    np.testing.assert_array_equal(tree["IF"]["wavelength"].values, tree["WV"]["wavelength"].values)


def test_trdr_observation_tree_joins_ddr_and_wa(corpus_copy: Path) -> None:
    ddr = _rand((len(DDR_NAMES), 15, 64), 9)
    ddr_dir = corpus_copy / "ddr_volume"
    ddr_dir.mkdir()
    write_cube(ddr_dir, DDR_TEMPLATE, "FRT0001458F_01_DE156L_DDR1", ddr, storage="BAND_SEQUENTIAL", band_names=DDR_NAMES)
    label = corpus_copy / "frt0001458f_01_if156l_trr3.lbl"
    tree = xr.open_datatree(label, engine="crism", sidecar_dirs=[ddr_dir], mask_and_scale=False)
    assert sorted(tree.children) == ["DE", "IF", "WA"]
    alone = xr.open_dataset(label, engine="crism", mask_and_scale=False)
    xr.testing.assert_identical(tree["IF"].to_dataset(), alone)
    np.testing.assert_array_equal(tree["DE"]["latitude"].values, ddr[DDR_NAMES.index("Latitude, areocentric, deg N")])
    assert tree["WA"].ds.attrs["product_id"] == "CDR450924300802_WA0300000L_3"
    assert tree["WA"]["center_wavelength"].shape == (438, 1, 64)


def test_product_without_a_set_is_a_tree_of_one(tmp_path: Path) -> None:
    shutil.copy(CRISM / "cdr" / "CDR450924300802_WA0300000S_2.LBL", tmp_path)
    shutil.copy(CRISM / "cdr" / "CDR450924300802_WA0300000S_2.IMG", tmp_path)
    tree = xr.open_datatree(tmp_path / "CDR450924300802_WA0300000S_2.LBL", engine="crism")
    assert list(tree.children) == ["WA"]


@pytest.mark.parametrize("georeference", [True, False])
def test_tree_passes_georeference_to_every_group(tmp_path: Path, georeference: bool) -> None:
    _mtrdr_set(tmp_path)
    tree = xr.open_datatree(tmp_path / "frt00003e12_07_if166j_mtr3.lbl", engine="crism", georeference=georeference)
    assert ("spatial_ref" in tree["SU"].coords) is georeference
    assert tree["SU"]["r770"].dims == (("y", "x") if georeference else ("line", "sample"))


def test_tree_keeps_the_version_that_was_opened(tmp_path: Path) -> None:
    _mtrdr_set(tmp_path)
    tree = xr.open_datatree(tmp_path / "frt00003e12_07_if166j_mtr2.lbl", engine="crism", mask_and_scale=False)
    assert tree["IF"].ds.attrs["product_id"] == "FRT00003E12_07_IF166J_MTR2"
    assert float(abs(tree["IF"]["i_over_f"]).max()) == 0.0  # the version-2 cube is zeros
    assert tree["SU"].ds.attrs["product_id"] == "FRT00003E12_07_SU166J_MTR3"
