"""Write ``docs/_generated/data_model.md``: the variables, coordinates and attributes of every product type.

Nothing in the tables is written by hand. For every product type of :data:`xarray_crism.formats.products.KINDS`
(and a few options: ``ddr="auto"``, ``lat_lon=True``, ``bayer="split"``, PDS4 labels) a product is
opened with ``xr.open_dataset(..., engine="crism")`` and described. Products are the real ones where the
package or the test corpus (``../shared/corpus``) holds them, otherwise small products written by the
package's own generators (:mod:`xarray_crism.testing`, :mod:`xarray_crism.testing.maps`,
:mod:`xarray_crism.testing.pds4`) from real labels, the way the test suite writes them. A type that
cannot be produced or opened is listed with the error instead of being left out.

Run by ``docs/conf.py`` at the start of every build; by hand: ``python docs/make_data_model.py [OUT]``.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

import xarray_crism
from xarray_crism.formats.products import KINDS
from xarray_crism.testing import write_adr, write_cube, write_hk_table
from xarray_crism.testing.maps import equirectangular_grid, write_map_product
from xarray_crism.testing.pds4 import write_mastcamz_img, write_pds4_label

DOCS = Path(__file__).resolve().parent
CORPUS = DOCS.parent.parent / "shared" / "corpus"
CRISM = CORPUS / "crism"
MCZ = CORPUS / "mastcamz"
SAMPLE = Path(xarray_crism.sample_path())
SAMPLE_DIR = SAMPLE.parent
DEFAULT_OUT = DOCS / "_generated" / "data_model.md"

#: Real labels used as templates (the identification part is kept, the FILE objects are written).
DDR_LABEL = CRISM / "labels" / "frt00003e25_01_de156l_ddr1.lbl"
RA_LABEL = CRISM / "labels" / "frt0001073b_01_ra156s_trr3.lbl"
CDR4_LABEL = CRISM / "labels" / "CDR410000000000_AT0300020L_2.LBL"
MRDR_LABEL = CRISM / "labels" / "T0897_MRRAL_05S113_0256_1_cropped.LBL"
MRDR_DE_LABEL = CRISM / "labels" / "t1865_mrrde_70n185_0256_1_cropped.lbl"
MTRDR_WV = CRISM / "tables" / "mtrdr_axis_wv_j.tab"
MRDR_WV = CRISM / "labels" / "t0897_mrrwv_05s113_0256_1.tab"
SW_TABLE = CRISM / "cdr6" / "cdr6_5_0924300802_sw_s_2.lbl"
VS_ADR = CRISM / "adr" / "ADR10000000000_061C4_VS00L_8.LBL"
RAD_DEBAYERED = MCZ / "rad" / "ZL0_0711_0730054943_723RAD_N0332864ZCAM03014_048085A02.IMG"
RAD_BAYER = MCZ / "rad" / "ZL0_0709_0729888971_069RAD_N0332864ZCAM07114_0340LMA01.IMG"

SU_NAMES = ["R770", "BD1900_2", "OLINDEX3"]
MAP_GRID = (-2.5, -2.52, 110.0, 110.03, 256)  # a few pixels of the T0897 tile


@dataclass
class Case:
    """One product to open: what it shows, how it is made, with which ``open_dataset`` options."""

    section: str
    title: str
    kind: tuple[str, str] | None
    make: Callable[[Path], Path]
    options: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    compact: bool = False
    base: str | None = None


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _floats(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return _rng(seed).uniform(0.0, 0.5, shape).astype(np.float32)


def _band_names(label: Path) -> list[str]:
    """The BAND_NAME list of a real label (quoted or not, white space collapsed)."""
    text = label.read_text(encoding="latin-1")
    block = re.search(r"BAND_NAME\s*=\s*\((.*?)\)", text, re.S)
    if block is None:
        raise ValueError(f"{label.name}: no BAND_NAME")
    return [" ".join(n.strip().strip('"').split()) for n in re.findall(r'"[^"]*"|[^,\s][^,]*', block[1])]


def _copy_sample(tmp: Path) -> Path:
    for f in SAMPLE_DIR.iterdir():
        if f.suffix.lower() in (".lbl", ".img"):
            shutil.copy(f, tmp / f.name)
    return tmp / SAMPLE.name


# --- CRISM sensor space -------------------------------------------------------------------------


def _trdr(code: str, **kw: Any) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        pid = f"FRT00014679_01_{code}156S_TRR3"
        return write_cube(tmp, SAMPLE, pid, _floats((107, 15, 64)), detector_rows=np.arange(107) + 170, **kw).label
    return make


def _ra(tmp: Path) -> Path:
    data = _floats((107, 15, 64))
    return write_cube(tmp, RA_LABEL, "FRT0001073B_01_RA156S_TRR3", data, unit="W / (m**2 micrometer sr)",
                      detector_rows=np.arange(107) + 185).label


def _su(tmp: Path) -> Path:
    return write_cube(tmp, SAMPLE, "FRT00014679_01_SU156S_TRR3", _floats((3, 15, 64)), storage="BAND_SEQUENTIAL",
                      band_names=SU_NAMES).label


def _edr(tmp: Path) -> Path:
    table, _ = write_hk_table(tmp, "FRT00014679_01_SC156S_EDR0.TAB", "EDRHK.FMT", 15, object_name="EDR_HK_TABLE")
    data = _rng().integers(0, 4096, (107, 15, 64)).astype(np.uint16)
    return write_cube(tmp, SAMPLE, "FRT00014679_01_SC156S_EDR0", data, sample_type="MSB_UNSIGNED_INTEGER",
                      hk_table=table, detector_rows=np.arange(107) + 170).label


def _ddr(family: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        pid = f"FRT00014679_01_DE156S_{family}1"
        return write_cube(tmp, DDR_LABEL, pid, _floats((14, 15, 64), 1), storage="BAND_SEQUENTIAL",
                          band_names=_band_names(DDR_LABEL)).label
    return make


def _trdr_with_ddr(tmp: Path) -> Path:
    label = _copy_sample(tmp)
    _ddr("DDR")(tmp)
    return label


def _trdr_with_hk(tmp: Path) -> Path:
    hk, _ = write_hk_table(tmp, "FRT00014679_01_RA156S_HKP3.TAB", "TRDRHK.FMT", 15)
    return write_cube(tmp, SAMPLE, "FRT00014679_01_IF156S_TRR3", _floats((107, 15, 64)), hk_table=hk,
                      detector_rows=np.arange(107) + 170).label


# --- CRISM calibration and ancillary --------------------------------------------------------------


def _cdr4(code: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        pid = f"CDR410000000000_{code}0300020L_2"
        return write_cube(tmp, CDR4_LABEL, pid, _floats((70, 1, 64)), detector_rows=np.arange(70) + 200).label
    return make


def _cdr6(tmp: Path) -> Path:
    for f in SW_TABLE.parent.glob(SW_TABLE.stem + ".*"):
        shutil.copy(f, tmp / f.name)
    return tmp / SW_TABLE.name


def _adr(tmp: Path) -> Path:
    return write_adr(tmp, "ADR_CL_0000_9_0947778566_0", _floats((3, 4, 5)), ["LATITUDE", "LONGITUDE", "LS"])


# --- CRISM map-projected and TER ------------------------------------------------------------------

_MAP_NAMES = {
    "TER": "FRT00003E12_07_{code}166J_TER3", "MTRDR": "FRT00003E12_07_{code}166J_MTR3",
    "MRDR": "T0897_MRR{code}_05S113_0256_1", "VRDR": "T0897_VRR{code}_05S113_0256_1",
}
_BROWSE_NAMES = {
    "TER": "FRT00003E12_07_BRFALJ_TER3", "MTRDR": "FRT00003E12_07_BRFALJ_MTR3",
    "MRDR": "T0897_MRRFAL_05S113_0256_1", "VRDR": "T0897_VRRTRU_05S113_0256_1",
}
_STRETCH = {"MRO:RED_STRETCH_MINIMUM": "0.004", "MRO:RED_STRETCH_MAXIMUM": "0.03", "DESCRIPTION": '"FAL browse"'}


def _map(family: str, code: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        kind = KINDS[(family, code)]
        grid = equirectangular_grid(*MAP_GRID[:4], MAP_GRID[4], center_latitude=-2.5) if kind.map_projected else None
        shape = (6, 8) if grid is None else (grid.lines, grid.samples)
        template, names, keywords, sample_type = MRDR_LABEL, None, None, "PC_REAL"
        pid = (_BROWSE_NAMES if code == "BR" else _MAP_NAMES)[family].format(code=code)
        if kind.band_names == "slug":
            names = SU_NAMES
        elif kind.band_names == "ddr":
            template, names = MRDR_DE_LABEL, _band_names(MRDR_DE_LABEL)
        bands = len(names) if names else 3
        if kind.band_coordinates in ("wv_targeted", "wv_tile"):
            wv = MTRDR_WV if kind.band_coordinates == "wv_targeted" else MRDR_WV
            bands = len(wv.read_bytes().splitlines())
            wv_name = re.sub(r"_(IF|AL)(\d{3}J_|_)", r"_WV\2", pid) if family in ("TER", "MTRDR") else pid.replace(
                f"RR{code}_", "RRWV_")
            shutil.copy(wv, tmp / f"{wv_name.lower()}.tab")
        data = _floats((bands, *shape), 2)
        if code == "BR":
            data = _rng(3).integers(0, 256, data.shape).astype(np.uint8)
            sample_type, names, keywords = "MSB_UNSIGNED_INTEGER", ["OLINDEX3", "LCPINDEX2", "HCPINDEX2"], _STRETCH
        storage = "LINE_INTERLEAVED" if kind.variable in ("i_over_f", "lambert_albedo") else "BAND_SEQUENTIAL"
        return write_map_product(tmp, template, pid, data, grid, storage=storage, band_names=names,
                                 sample_type=sample_type, image_keywords=keywords).label
    return make


# --- Mastcam-Z and PDS4 ---------------------------------------------------------------------------

_IOF_ID = "ZL0_0711_0730054943_723IOF_N0332864ZCAM03014_048085A02"


def _real(path: Path) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        if not path.exists():
            raise FileNotFoundError(f"{path} (the test corpus, ../shared/corpus)")
        return path
    return make


def _iof(tmp: Path) -> Path:
    data = _rng(4).uniform(0.01, 0.6, (3, 40, 52)).astype(">f4")
    return write_mastcamz_img(tmp / f"{_IOF_ID}.IMG", RAD_DEBAYERED, data, product_id=_IOF_ID)


def _iof_pds4(tmp: Path) -> Path:
    data = _rng(4).integers(1, 32767, (3, 30, 44)).astype(">i2")
    scaling = (1.7e-05, 0.00123)
    img = write_mastcamz_img(tmp / f"{_IOF_ID}.IMG", RAD_DEBAYERED, data, product_id=_IOF_ID, scaling=scaling)
    return write_pds4_label(
        tmp / f"{_IOF_ID}.xml", img.name, offset=img.stat().st_size - data.nbytes, data_type="SignedMSB2",
        axes=[("Band", 3), ("Line", 30), ("Sample", 44)], scaling=scaling,
        constants={"missing_constant": "0.0", "invalid_constant": "0.0"},
        filters=[("ZCAM_L0_RGB", 0, 630), ("ZCAM_L0_RGB", 0, 544), ("ZCAM_L0_RGB", 0, 480)],
        headers=[("ODL3_Header", 0, 1000, "PDS ODL 2")],
    )


def _crism_pds4(tmp: Path) -> Path:
    label = _copy_sample(tmp)
    pds3 = xr.open_dataset(label, engine="crism")
    lines, bands, samples = pds3.sizes["line"], pds3.sizes["band"], pds3.sizes["sample"]
    return write_pds4_label(
        tmp / "frt00014679_01_if156s_trr3.xml", "frt00014679_01_if156s_trr3.img", offset=0,
        data_type="IEEE754LSBSingle", array_class="Array_3D_Spectrum",
        axes=[("Line", lines), ("Band", bands), ("Sample", samples)], constants={"missing_constant": "65535.0"},
    )


def build_cases() -> list[Case]:
    """Every product type of KINDS, in table order, plus the options that change a Dataset."""
    sensor = "CRISM sensor-space products (TRDR, EDR, DDR, LDR)"
    calib = "CRISM calibration and ancillary products (CDR4, CDR6, ADR)"
    mapped = "CRISM TER and map-projected products (MTRDR, MRDR, VRDR)"
    mcz = "Mars 2020 Mastcam-Z"
    pds4 = "PDS4 labels"
    gen = "generated by `xarray_crism.testing.write_cube` from the identification part of the real label `{}`"
    cases = [
        Case(sensor, "TRDR IF: I/F", ("TRDR", "IF"), lambda tmp: SAMPLE,
             origin="the real product shipped in the package (`xarray_crism.sample_path()`)"),
        Case(sensor, "TRDR IF with `ddr=\"auto\"`", None, _trdr_with_ddr, {"ddr": "auto"},
             "the shipped product beside a generated DDR of the same observation: the DDR backplanes join it",
             base="TRDR IF: I/F"),
        Case(sensor, "TRDR IF with its housekeeping table", None, _trdr_with_hk, {},
             gen.format(SAMPLE.name) + ", with an HKP table and its FMT (`xarray_crism.testing.write_hk_table`)",
             base="TRDR IF: I/F"),
        Case(sensor, "TRDR RA: radiance", ("TRDR", "RA"), _ra, origin=gen.format(RA_LABEL.name)),
        Case(sensor, "TRDR AL: Lambert albedo", ("TRDR", "AL"), _trdr("AL"), {"sidecar_dirs": [str(SAMPLE_DIR)]},
             gen.format(SAMPLE.name) + "; its WA CDR found through `sidecar_dirs`"),
        Case(sensor, "TRDR SU: summary parameters", ("TRDR", "SU"), _su, origin=gen.format(SAMPLE.name)),
        Case(sensor, "EDR: raw counts", ("EDR", "*"), _edr, origin=gen.format(SAMPLE.name) + ", with its frame table"),
        Case(sensor, "DDR DE: geometry backplanes", ("DDR", "DE"), _ddr("DDR"), origin=gen.format(DDR_LABEL.name)),
        Case(sensor, "LDR DE: limb geometry backplanes", ("LDR", "DE"), _ddr("LDR"), origin=gen.format(DDR_LABEL.name)),
        Case(calib, "CDR4 WA: wavelength image", ("CDR4", "WA"), lambda tmp: SAMPLE_DIR / "CDR450924300802_WA0300000S_2.LBL",
             origin="the real WA CDR shipped with the sample"),
    ]
    for family, code in KINDS:
        if family == "CDR4" and code != "WA":
            cases.append(Case(calib, f"CDR4 {code}: {KINDS[(family, code)].description}", (family, code), _cdr4(code),
                              {"sidecar_dirs": [str(CRISM / "cdr6")]}, gen.format(CDR4_LABEL.name), compact=True))
    cases += [
        Case(calib, "CDR6: calibration table (SW)", ("CDR6", "*"), _cdr6, origin=f"the real CDR6 SW table `{SW_TABLE.name}`"),
        Case(calib, "ADR: look-up table", ("ADR", "*"), _adr, origin="generated by `xarray_crism.testing.write_adr`"),
        Case(calib, "ADR VS: volcano-scan atmospheric transmission", ("ADR", "VS"), _real(VS_ADR),
             {"sidecar_dirs": [str(CRISM / "cdr")]}, "a real 3-line VS ADR of the corpus, with the WA CDR its label names"),
    ]
    gen_map = "generated by `xarray_crism.testing.maps.write_map_product` from the identification part of `{}`"
    for family, code in KINDS:
        if family in _MAP_NAMES:
            kind = KINDS[(family, code)]
            origin = gen_map.format((MRDR_DE_LABEL if kind.band_names == "ddr" else MRDR_LABEL).name)
            if kind.band_coordinates.startswith("wv_"):
                wv = MTRDR_WV if kind.band_coordinates == "wv_targeted" else MRDR_WV
                origin += f", with the real WV table `{wv.name}`"
            cases.append(Case(mapped, f"{family} {code}: {kind.description}", (family, code), _map(family, code),
                              origin=origin))
    cases += [
        Case(mapped, "MTRDR IF with `lat_lon=True`", None, _map("MTRDR", "IF"), {"lat_lon": True},
             "as MTRDR IF above; `lat`/`lon` are computed for the window read", base="MTRDR IF: corrected I/F"),
        Case(mapped, "MTRDR IF with `georeference=False`", None, _map("MTRDR", "IF"), {"georeference": False},
             "as MTRDR IF above, without map coordinates", base="MTRDR IF: corrected I/F"),
        Case(mcz, "Mastcam-Z RAD: radiance", ("MCZ", "RAD"), _real(RAD_DEBAYERED), origin="a real debayered RAD of the corpus"),
        Case(mcz, "Mastcam-Z RAD, raw Bayer mosaic", None, _real(RAD_BAYER), origin="a real raw Bayer RAD of the corpus",
             base="Mastcam-Z RAD: radiance"),
        Case(mcz, "Mastcam-Z RAD, raw Bayer with `bayer=\"split\"`", None, _real(RAD_BAYER), {"bayer": "split"},
             "a real raw Bayer RAD of the corpus, split into R, G, B planes", base="Mastcam-Z RAD, raw Bayer mosaic"),
        Case(mcz, "Mastcam-Z IOF: radiance factor", ("MCZ", "IOF"), _iof,
             origin="generated by `xarray_crism.testing.pds4.write_mastcamz_img` from the header of a real RAD"),
        Case(pds4, "Mastcam-Z IOF through its PDS4 label", None, _iof_pds4,
             origin="generated by `xarray_crism.testing.pds4.write_pds4_label` (scaled int16, special constants, filters)",
             base="Mastcam-Z IOF: radiance factor"),
        Case(pds4, "CRISM TRDR migrated to PDS4 (`Array_3D_Spectrum`)", None, _crism_pds4,
             origin="a PDS4 label written for the shipped sample's IMG", base="TRDR IF: I/F"),
    ]
    return cases


# --- Rendering ------------------------------------------------------------------------------------


def _cell(text: Any) -> str:
    s = str(text).replace("|", "\\|").replace("`", "'").replace("\r", "").replace("\n", " ")
    return s


def _code(text: Any) -> str:
    s = _cell(text)
    return f"`{s}`" if s else ""


def _value(value: Any, name: str, tmp: str) -> str:
    if name == "pds_label":
        return f"(the whole label text, {len(value):,} characters)"
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        value = [Path(v).name if isinstance(v, str) and (v.startswith(tmp) or "/" in v) else v for v in value]
    elif isinstance(value, str) and value.startswith(tmp):
        value = Path(value).name
    text = repr(value) if not isinstance(value, str) else value
    text = " ".join(text.split())
    return _code(text if len(text) <= 70 else text[:67] + "...")


def _short_attr(name: str, value: Any) -> str:
    if name in ("crs_wkt", "spatial_ref", "GeoTransform") or (isinstance(value, str) and len(value) > 50):
        return _code(name)
    if isinstance(value, np.generic):
        value = value.item()
    return _code(f"{name}={value!r}")


def _encoding(var: xr.Variable) -> str:
    keys = ("_FillValue", "scale_factor", "add_offset", "missing_value")
    parts = [f"{k}={np.asarray(var.encoding[k]).tolist()!r}" for k in keys if k in var.encoding]
    return ", ".join(_code(p) for p in parts)


def _variables_table(variables: dict[Any, xr.Variable]) -> list[str]:
    out = ["| name | dims | dtype | units | long_name | other attributes | encoding |", "|---|---|---|---|---|---|---|"]
    for name, var in variables.items():
        other = ", ".join(_short_attr(k, v) for k, v in var.attrs.items() if k not in ("units", "long_name"))
        dims = _code(", ".join(map(str, var.dims))) if var.dims else "(scalar)"
        out.append(
            f"| {_code(name)} | {dims} | {_code(var.dtype)} | {_code(var.attrs.get('units', ''))} | "
            f"{_cell(var.attrs.get('long_name', ''))} | {other} | {_encoding(var)} |"
        )
    return out


def _describe(case: Case, ds: xr.Dataset, path: Path, tmp: str, base: dict[str, Any] | None) -> list[str]:
    options = "".join(f", {k}={v!r}" for k, v in case.options.items() if k != "sidecar_dirs")
    if "sidecar_dirs" in case.options:
        options += ", sidecar_dirs=[...]"
    sizes = ", ".join(f"{d}: {n}" for d, n in ds.sizes.items())
    lines = [
        f"`xr.open_dataset(\"{path.name}\", engine=\"crism\"{options})`: {case.origin}.",
        "",
        f"Dimensions (of this example): {sizes}.",
        "",
        "**Data variables**",
        "",
        *_variables_table({k: ds[k].variable for k in ds.data_vars}),
        "",
    ]
    if ds.coords:
        lines += ["**Coordinates**", "", *_variables_table({k: ds.coords[k].variable for k in ds.coords}), ""]
    attrs = {k: _value(v, k, tmp) for k, v in ds.attrs.items()}
    if base is None:
        lines += ["**Attributes**", "", "| name | value in this example |", "|---|---|"]
        lines += [f"| {_code(k)} | {v} |" for k, v in attrs.items()]
        return [*lines, ""]
    changed = {k: v for k, v in attrs.items() if base.get(k) != v}
    gone = [k for k in base if k not in attrs]
    lines += [f"**Attributes**: those of {case.base} above, except:", ""]
    if changed:
        lines += ["| name | value in this example |", "|---|---|", *[f"| {_code(k)} | {v} |" for k, v in changed.items()], ""]
    if gone:
        lines += ["Not present: " + ", ".join(_code(k) for k in gone) + ".", ""]
    if not changed and not gone:
        lines += ["(none)", ""]
    return lines


def _summary_row(case: Case, ds: xr.Dataset) -> str:
    names = list(ds.data_vars)
    shown = ", ".join(_code(n) for n in names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    dims = sorted({ds[n].dims for n in names}, key=len, reverse=True)
    return (f"| {case.title.replace('|', '/')} | {shown} | {', '.join(_code(', '.join(d)) for d in dims)} | "
            f"{', '.join(_code(c) for c in ds.coords)} |")


def _compact_row(case: Case, ds: xr.Dataset) -> str:
    name, var = next(iter((k, ds[k].variable) for k in ds.data_vars))
    coords = ", ".join(_code(c) for c in ds.coords)
    return (f"| {case.title.split(':')[0]} | {_code(name)} | {_code(', '.join(var.dims))} | {_code(var.dtype)} | "
            f"{_code(var.attrs.get('units', ''))} | {_cell(var.attrs.get('long_name', ''))} | {coords} |")


def generate(out: Path = DEFAULT_OUT) -> tuple[int, list[str]]:
    """Write the page; return the number of products opened and the titles that failed."""
    cases = build_cases()
    covered = {c.kind for c in cases if c.kind is not None}
    lines = [
        "<!-- Generated by docs/make_data_model.py at build time: do not edit. -->",
        "",
    ]
    failures: list[str] = []
    missing = [k for k in KINDS if k not in covered]
    opened = 0
    section = None
    compact: list[str] = []
    shown: dict[str, dict[str, str]] = {}
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xcrism-docs-") as root:
        for i, case in enumerate(cases):
            if case.section != section:
                lines += _flush_compact(compact)
                section = case.section
                lines += [f"## {section}", ""]
            tmp = Path(root) / f"case{i:02d}"
            tmp.mkdir()
            try:
                path = case.make(tmp)
                with xr.open_dataset(path, engine="crism", **case.options) as ds:
                    if case.compact:
                        compact.append(_compact_row(case, ds))
                    else:
                        lines += _flush_compact(compact)
                        lines += [f"### {case.title}", ""]
                        base = shown.get(case.base) if case.base else None
                        lines += _describe(case, ds, path, str(tmp), base)
                        shown[case.title] = {k: _value(v, k, str(tmp)) for k, v in ds.attrs.items()}
                        summary.append(_summary_row(case, ds))
                opened += 1
            except Exception as err:  # a type that cannot be shown is said so, not left out
                failures.append(case.title)
                message = " ".join(f"{type(err).__name__}: {err}".split())
                if case.compact:
                    compact.append(f"| {case.title.split(':')[0]} | could not be opened: {_cell(message)} | | | | | |")
                else:
                    lines += _flush_compact(compact)
                    lines += [f"### {case.title}", "", f"**Could not be generated or opened here**: {_cell(message)}", ""]
        lines += _flush_compact(compact)
    if missing:
        lines += ["## Product types without an example", ""]
        lines += [f"- {f} {c}: no generator is written for it yet" for f, c in missing]
        lines += [""]
        failures += [f"{f} {c}" for f, c in missing]
    head = [
        lines[0], "", "## Overview", "",
        "One row per product type and option shown below (the CDR4 types other than WA are in their own table).", "",
        "| product | data variables | dims | coordinates |", "|---|---|---|---|", *summary, "",
    ]
    text = "\n".join(head + lines[2:])
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:  # unchanged: Sphinx does not re-read it
        out.write_text(text, encoding="utf-8")
    return opened, failures


def _flush_compact(rows: list[str]) -> list[str]:
    if not rows:
        return []
    head = [
        "### Other CDR4 calibration images",
        "",
        "Every other CDR4 type, each generated by `xarray_crism.testing.write_cube` from the identification part of "
        f"the real label `{CDR4_LABEL.name}` and opened with `sidecar_dirs` holding the corpus' CDR6 SW tables (that "
        "label's clock, `1/0000000000`, is before the first epoch of the wavelength table shipped with the package, so "
        "without a SW table of that epoch its `wavelength` cannot be given and opening it raises "
        "`SidecarNotFoundError`): one variable named for the quantity on `(band, line, sample)`, with the same "
        "coordinates and label attributes as the WA CDR above.",
        "",
        "| type | variable | dims | dtype | units | long_name | coordinates |",
        "|---|---|---|---|---|---|---|",
    ]
    out = [*head, *rows, ""]
    rows.clear()
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    t0 = time.perf_counter()
    opened, failures = generate(out)
    print(f"{out}: {opened} products opened in {time.perf_counter() - t0:.1f} s; failed: {failures or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
