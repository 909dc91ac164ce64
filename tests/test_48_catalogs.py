"""Volumes as Intake catalogs, local: entries, sidecars, filters, YAML, the Intake plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import intake
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.archive.bundles import build_inventory_frame
from xarray_crism.archive.catalog import build_entries
from xarray_crism.archive.intake_plugin import CrismDatasetReader, CrismProduct, CrismVolume
from xarray_crism.archive.volumes import Volume, read_volume
from xarray_crism.errors import LabelValueError, QueryError, SidecarNotFoundError
from xarray_crism.testing.volume import write_index

from .conftest import CRISM

A, B_L, B_S = "FRT00014679_01_IF156S_TRR3", "FRT0001458F_01_IF156L_TRR3", "FRT0001458F_01_IF156S_TRR3"
HRL = "HRL000040FF_07_IF183L_TRR3"
TRDR_IDS = sorted([A, B_L, B_S, HRL])


def _catalog(volumes: dict[str, Path], **kwargs: object) -> intake.readers.entry.Catalog:
    return xarray_crism.open_catalog(volumes["trdr"], ddr_volume=volumes["ddr"], cdr_volume=volumes["cdr"], **kwargs)


def test_every_product_of_the_index_is_an_entry_named_by_product_id(volumes: dict[str, Path]) -> None:
    cat = _catalog(volumes)
    assert sorted(cat) == TRDR_IDS
    meta = cat["FRT00014679_01_IF156S_TRR3"].metadata
    assert meta["observation_id"] == "00014679" and meta["sensor"] == "S" and meta["start_time"] == "2009-08-16T03:50:46"
    assert meta["footprint"] == {"west": 137.35, "east": 137.45, "south": -4.55, "north": -4.45}
    assert meta["sidecars"]["ddr"].endswith("mrocr_1002/ddr/2009/2009_228/frt00014679/frt00014679_01_de156s_ddr1.lbl")
    assert [d.rsplit("/", 2)[-2:] for d in meta["sidecars"]["wavelength_dirs"]] == [["cdr", "wa"], ["cdr", "sw"]]
    assert cat.metadata["path_case"] == "lower" and cat.metadata["joined"] is True


def test_an_entry_reads_the_product_with_its_ddr_and_calibration_joined(volumes: dict[str, Path]) -> None:
    ds = _catalog(volumes)[B_L].read(mask_and_scale=False)
    assert isinstance(ds, xr.Dataset) and ds.attrs["ddr_product_id"] == "FRT0001458F_01_DE156L_DDR1"
    direct = xr.open_dataset(CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl", engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(ds.i_over_f.values, direct.i_over_f.values)  # the real corpus bytes
    ddr_label = volumes["ddr"] / "ddr/2009/2009_226/frt0001458f/frt0001458f_01_de156l_ddr1.lbl"
    ddr = xr.open_dataset(ddr_label, engine="crism", mask_and_scale=False)
    np.testing.assert_array_equal(ds.incidence_angle.values, ddr.incidence_angle.values)
    assert ds.wavelength.attrs["source"] == "CDR6_5_0924300802_SW_L_3 (CDR6 SW table)"
    sw = np.loadtxt(CRISM / "cdr6" / "cdr6_5_0924300802_sw_l_3.tab", delimiter=",")
    by_row = dict(zip(sw[:, 0].astype(int), np.where(sw[:, 1] == 65535.0, np.nan, sw[:, 1]), strict=True))
    np.testing.assert_array_equal(ds.wavelength.values, [by_row[int(r)] for r in ds.detector_row.values])
    assert ds.pixel_wavelength.attrs["source"] == "CDR450924300802_WA0300000L_3"


def test_join_false_reads_the_product_alone_but_keeps_its_sidecars_known(volumes: dict[str, Path]) -> None:
    cat = _catalog(volumes, join=False)
    entry = cat["FRT00014679_01_IF156S_TRR3"]
    assert entry.metadata["joined"] is False and entry.metadata["sidecars"]["ddr"] is not None
    ds = entry.read()
    assert "incidence_angle" not in ds and "ddr_product_id" not in ds.attrs


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"observation_id": "00014679"}, [A]),
        ({"observation_id": ["FRT0001458F"]}, [B_L, B_S]),
        ({"observation_id": "HRL0001458F"}, []),  # class type and ID must both match
        ({"class_type": "hrl"}, [HRL]),
        ({"sensor": "L"}, [B_L, HRL]),
        ({"product_type": "IF"}, TRDR_IDS),
        ({"product_type": "TRDR", "sensor": "S"}, [B_S, A]),
        ({"product_type": "DDR"}, []),
        ({"product_id": "*_IF156S_*"}, [B_S, A]),
        ({"stop": "2008-01-01"}, [HRL]),
        ({"start": "2009-08-15T00:00:00Z", "stop": "2009-12-31"}, [A]),
        ({"start": "2009-08-14T03:06:25", "stop": "2009-08-14T03:06:26"}, [B_L, B_S]),  # overlap, not containment
        ({"bbox": (137.0, -5.0, 138.0, -4.0)}, [A]),
        ({"bbox": (137.44, -4.5, 137.46, -4.4)}, [A]),  # box and footprint overlap at an edge
        ({"bbox": (359.9, 18.0, 0.1, 19.0)}, [HRL]),  # across 0/360
        ({"bbox": (-0.1, 18.0, 0.1, 19.0)}, [HRL]),  # west in -180..0
        ({"bbox": (0.0, -90.0, 360.0, 90.0)}, TRDR_IDS),
        ({"bbox": (10.0, -90.0, 20.0, 90.0)}, []),
    ],
)
def test_filters_narrow_the_catalog(volumes: dict[str, Path], filters: dict[str, object], expected: list[str]) -> None:
    assert sorted(xarray_crism.open_catalog(volumes["trdr"], **filters)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("filters", "keyword"),
    [({"bbox": (0, 10, 5, -10)}, "bbox"), ({"bbox": (0, 1, 2)}, "bbox"), ({"start": "yesterday-ish"}, "start")],
)
def test_a_bad_filter_names_itself(volumes: dict[str, Path], filters: dict[str, object], keyword: str) -> None:
    with pytest.raises(QueryError, match=rf"mrocr_2104: {keyword} = .*; expected"):
        xarray_crism.open_catalog(volumes["trdr"], **filters)  # type: ignore[arg-type]


def test_catalog_saves_to_yaml_and_loads_with_intake(volumes: dict[str, Path], tmp_path: Path) -> None:
    cat = _catalog(volumes, sensor="S")
    cat.to_yaml_file(str(tmp_path / "trdr.yaml"))
    loaded = intake.from_yaml_file(str(tmp_path / "trdr.yaml"))
    assert sorted(loaded) == sorted(cat) == [B_S, A]
    xr.testing.assert_identical(loaded[A].read(), cat[A].read())


def test_an_index_label_works_as_the_volume_and_monthly_indexes_are_joined(volumes: dict[str, Path], tmp_path: Path) -> None:
    by_label = read_volume(volumes["trdr"] / "index" / "cumindex.lbl")
    assert by_label.root.path == str(volumes["trdr"]) and len(by_label.index) == 4
    rows = by_label.index.to_dict("records")
    volume = tmp_path / "mrocr_2104"
    (volume / "INDEX").mkdir(parents=True)
    for name, part in (("TRR0908_INDEX.LBL", rows[:1]), ("TRR0907_INDEX.LBL", rows[1:]), ("TRR0907_BRINDEX.LBL", rows[:1])):
        write_index(volume / "INDEX" / name, [{k: _plain(v) for k, v in r.items()} for r in part])
    monthly = read_volume(volume, path_case="lower")
    assert monthly.index["PRODUCT_ID"].tolist() == [*[r["PRODUCT_ID"] for r in rows[1:]], rows[0]["PRODUCT_ID"]]


def _plain(value: object) -> object:
    if str(value) in ("<NA>", "NaT", "nan"):
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%dT%H:%M:%S")  # type: ignore[attr-defined]
    return value


def test_a_volume_whose_products_are_missing_or_without_index_says_so(volumes: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "mrocr_2104" / "index").mkdir(parents=True)
    for name in ("cumindex.lbl", "cumindex.tab"):
        (tmp_path / "mrocr_2104" / "index" / name).write_bytes((volumes["trdr"] / "index" / name).read_bytes())
    with pytest.raises(SidecarNotFoundError, match=r"FILE_SPECIFICATION_NAME = .*Pass path_case='lower'"):
        xarray_crism.open_catalog(tmp_path / "mrocr_2104")
    assert len(xarray_crism.open_catalog(tmp_path / "mrocr_2104", path_case="lower")) == 4  # a partial mirror
    with pytest.raises(SidecarNotFoundError, match=r"an INDEX directory"):
        xarray_crism.open_catalog(tmp_path)


MASTCAMZ = CRISM.parent / "mastcamz" / "rad"


def test_a_mastcamz_bundle_is_a_catalog_of_its_inventory(volumes: dict[str, Path]) -> None:
    cat = xarray_crism.open_catalog(volumes["mastcamz"])
    assert sorted(cat) == sorted(p.stem for p in MASTCAMZ.glob("*.IMG"))  # the secondary member is left out
    name = "ZR0_0711_0730060314_988RAD_N0332864ZCAM03552_0630LMA01"
    meta = cat[name].metadata
    assert (meta["sol"], meta["sensor"], meta["product_type"], meta["filter"]) == (711, "R", "RAD", "0")
    assert meta["logical_identifier"] == f"urn:nasa:pds:mars2020_mastcamz_sci_calibrated:data:{name.lower()}"
    xr.testing.assert_identical(cat[name].read(), xr.open_dataset(MASTCAMZ / f"{name}.IMG", engine="crism"))
    assert sorted(xarray_crism.open_catalog(volumes["mastcamz"], sol=(700, 710))) == [n for n in sorted(cat) if "_0709_" in n]
    assert len(xarray_crism.open_catalog(volumes["mastcamz"], sensor="L", product_type="RAD", sol=711)) == 1
    by_label = xarray_crism.open_catalog(volumes["mastcamz"] / "data" / "collection_data.xml")
    assert sorted(by_label) == sorted(cat)
    with pytest.raises(QueryError, match=r"observation_id = .*it has no OBSERVATION_ID column"):
        xarray_crism.open_catalog(volumes["mastcamz"], observation_id="00014679")
    with pytest.raises(QueryError, match=r"sol = \(3, 3\); expected .*no SOL column"):
        xarray_crism.open_catalog(volumes["trdr"], sol=3)


def test_intake_finds_the_reader_and_importing_intake_stays_light(volumes: dict[str, Path]) -> None:
    label = volumes["trdr"] / "trdr/2009/2009_228/frt00014679/frt00014679_01_if156s_trr3.lbl"
    reader = CrismProduct(str(label)).to_reader("xarray:Dataset")
    assert isinstance(reader, CrismDatasetReader)
    assert reader.read().i_over_f.shape == (107, 15, 64)
    volume = CrismVolume(str(volumes["trdr"])).to_reader(reader="CrismVolumeReader")
    assert sorted(volume.read(sensor="L")) == [B_L, HRL]
    code = "import sys, intake; assert 'xarray_crism.archive.intake_plugin' in sys.modules; assert 'xarray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_cumulative_index_is_cut_to_the_volume_and_monthly_indexes_come_first(volumes: dict[str, Path], tmp_path: Path) -> None:
    rows = [{k: _plain(v) for k, v in r.items()} for r in read_volume(volumes["trdr"]).index.to_dict("records")]
    older = [{**r, "VOLUME_ID": "MROCR_2103", "PRODUCT_ID": r["PRODUCT_ID"].replace("_01_", "_05_")} for r in rows]
    volume = tmp_path / "mrocr_2104"
    (volume / "index").mkdir(parents=True)
    (volume / "trdr").symlink_to(volumes["trdr"] / "trdr", target_is_directory=True)
    write_index(volume / "index" / "cumindex.lbl", older + rows, table_name="cumindex.tab")
    assert sorted(xarray_crism.open_catalog(volume)) == TRDR_IDS  # MROCR_2103's rows are not this volume's
    write_index(volume / "index" / "trr0908_index.lbl", rows[:1], table_name="trr0908_index.tab")
    assert list(xarray_crism.open_catalog(volume)) == [rows[0]["PRODUCT_ID"]]  # the monthly index wins
    renamed = tmp_path / "mirror_of_2104"
    volume.rename(renamed)
    (renamed / "index" / "trr0908_index.lbl").unlink()
    with pytest.raises(LabelValueError, match=r"cumindex\.tab: VOLUME_ID = \['MROCR_2103', 'MROCR_2104'\]; expected"):
        xarray_crism.open_catalog(renamed)


def test_entries_take_the_highest_ddr_version_and_only_the_calibration_found(volumes: dict[str, Path]) -> None:
    trdr, ddr = read_volume(volumes["trdr"]), read_volume(volumes["ddr"])
    newer = ddr.index.iloc[:1].assign(
        PRODUCT_ID=lambda d: d["PRODUCT_ID"].str.replace("_DDR1", "_DDR2"),
        FILE_SPECIFICATION_NAME=lambda d: d["FILE_SPECIFICATION_NAME"].str.replace("_DDR1", "_DDR2"),
    )
    ddr2 = Volume(ddr.root, pd.concat([newer, ddr.index], ignore_index=True), ddr.path_case)
    entries = {e.name: e for e in build_entries(trdr, trdr.index, ddr=ddr2, cdr=read_volume(volumes["cdr"]))}
    first = str(ddr.index["PRODUCT_ID"].iloc[0])
    trdr_of_first = next(n for n in entries if n[:14] == first[:14] and n[20] == first[20])
    assert entries[trdr_of_first].ddr is not None and entries[trdr_of_first].ddr.endswith("_ddr2.lbl")
    assert [d.rsplit("/", 1)[-1] for d in entries[HRL].sidecar_dirs] == ["sw"]  # its WA CDR is not in the CDR volume
    assert [d.rsplit("/", 1)[-1] for d in entries[A].sidecar_dirs] == ["wa", "sw"]


def test_an_inventory_keeps_primary_members_at_their_highest_version() -> None:
    name = "zl0_0709_0729888971_069rad_n0332864zcam07114_0340lma01"
    members = [f"P,urn:nasa:pds:b:data:{name}::{v}" for v in ("1.9", "1.10", "1.2")] + ["S,urn:nasa:pds:b:document:x::1.0"]
    text = "\r\n".join(members) + "\r\n"
    frame = build_inventory_frame(text, "inventory.csv", "data")
    assert frame["VERSION_ID"].tolist() == ["1.10"] and frame["SOL"].tolist() == [709]
    assert frame["FILE_SPECIFICATION_NAME"].tolist() == [f"data/0709/rad/{name.upper()}.IMG"]
