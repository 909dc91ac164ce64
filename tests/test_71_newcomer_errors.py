"""Issue 19, points 3, 6 and 8: errors that say what to do, the command line, small surprises.

Every case of the issue's table on real files: the error is a package error naming the file, what
was wrong and the call (or, on the command line, the flag) that fixes it. The CLI runs in
subprocesses, as a user runs it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import xarray_crism
from xarray_crism.errors import (
    CrismError,
    LabelNotFoundError,
    LabelValueError,
    RemoteReadError,
    SidecarNotFoundError,
    UnsupportedProductError,
    cli_wording,
)
from xarray_crism.io import retries

from .conftest import CORPUS, CRISM, REPO

LABEL = CRISM / "trdr" / "frt00014679_01_if156s_trr3.lbl"
MASTCAMZ_RAW = CORPUS / "mastcamz" / "rad" / "ZL0_0709_0729888971_069RAD_N0332864ZCAM07114_0340LMA01.IMG"


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env_path = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "xarray_crism.cli", *args], capture_output=True, text=True, cwd=cwd,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "HOME": str(cwd)}, timeout=300,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """A failed command: status 2, no traceback, one line on stderr."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("xarray-crism: warning: ")]
    assert len(lines) == 1 and lines[0].startswith("xarray-crism: "), result.stderr
    return lines[0]


# --- point 3: the table of the issue ---------------------------------------------------------------


def test_an_img_without_its_label_names_the_missing_label(tmp_path: Path) -> None:
    img = tmp_path / "frt00014679_01_if156s_trr3.img"
    shutil.copy(CRISM / "trdr" / img.name, img)
    with pytest.raises(LabelNotFoundError) as caught:
        xr.open_dataset(img, engine="crism")
    err = caught.value
    assert isinstance(err, SidecarNotFoundError) and err.file == str(img)
    assert err.value == "frt00014679_01_if156s_trr3.LBL or frt00014679_01_if156s_trr3.xml"
    assert "without its label" in str(err) and "\\x00" not in str(err)
    shutil.copy(LABEL, tmp_path / LABEL.name)  # the fix the message gives: the label beside it
    assert xr.open_dataset(img, engine="crism", sidecar_dirs=[CRISM / "cdr"]).sizes["band"] == 107


def test_a_broken_text_label_stays_a_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.lbl"
    bad.write_text("this is not a label\n")
    with pytest.raises(CrismError, match="expected a PDS3 label") as caught:
        xr.open_dataset(bad, engine="crism")
    assert not isinstance(caught.value, LabelNotFoundError)


def test_a_directory_names_the_labels_it_holds() -> None:
    with pytest.raises(UnsupportedProductError, match="not a directory") as caught:
        xr.open_dataset(CRISM / "trdr", engine="crism")
    assert caught.value.file == str(CRISM / "trdr")
    assert "frt00014679_01_if156s_trr3.lbl" in str(caught.value) and "open_catalog" in str(caught.value)


def test_a_misspelt_ddr_is_refused_with_the_values_it_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SidecarNotFoundError) as caught:
        xr.open_dataset(LABEL, engine="crism", ddr="atuo")
    err = caught.value
    assert (err.file, err.keyword, err.value) == (str(LABEL), "ddr", "atuo")
    assert "'auto'" in err.expected and str(tmp_path / "atuo") in err.expected and "working directory" in err.expected
    assert "ddr='auto'" in err.hint


def test_an_unreachable_host_is_named_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(retries, "BACKOFF_SECONDS", 0.001)
    url = f"http://127.0.0.1:{port}/frt00014679_01_if156s_trr3.lbl"
    with pytest.raises(RemoteReadError) as caught:
        xr.open_dataset(url, engine="crism")
    text = str(caught.value)
    assert text.startswith(url) and "FileNotFoundError" not in text
    assert "ClientConnectorError" in text and "could not be reached" in text and "host and port" in text


def test_a_missing_volume_says_what_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(SidecarNotFoundError) as caught:
        xarray_crism.open_catalog(tmp_path / "mrocr_2104")
    text = str(caught.value)
    assert "= None" not in text and str(tmp_path / "mrocr_2104") in text and "exists" in text
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(SidecarNotFoundError, match=r"INDEX = \['README.TXT'\].*volume's root"):
        xarray_crism.open_catalog(tmp_path / "empty")


def test_hints_are_worded_for_the_command_line() -> None:
    assert cli_wording("Pass sidecar_dirs=[...] with the directories") == (
        "Pass --sidecar-dir DIR (once per directory or URL) with the directories"
    )
    assert cli_wording("x. Pass mode='w' to replace it") == "x. Pass --overwrite to replace it"
    assert cli_wording("pass ddr='auto', or") == "pass --ddr auto, or"


def test_cli_show_of_a_missing_file_prints_one_line(tmp_path: Path) -> None:
    line = _one_line_error(_cli("show", "missing.lbl", cwd=tmp_path))
    assert str(tmp_path / "missing.lbl") in line and "working directory" in line


def test_cli_errors_name_flags_not_keywords(tmp_path: Path) -> None:
    line = _one_line_error(_cli("show", str(LABEL), "--ddr", "atuo", cwd=tmp_path))
    assert "--ddr auto" in line and "ddr='auto'" not in line
    line = _one_line_error(_cli("show", str(LABEL), "--ddr", "auto", cwd=tmp_path))  # no DDR beside the corpus TRDR
    assert "--sidecar-dir DIR" in line and "sidecar_dirs=" not in line
    line = _one_line_error(_cli("show", str(LABEL), "--bayer", "split", cwd=tmp_path))
    assert "--bayer raw" in line and "TRDR IF" in line


# --- point 6: the command line -----------------------------------------------------------------------


def test_cli_version() -> None:
    result = _cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"xarray-crism {xarray_crism.__version__}"


@pytest.mark.parametrize("command", [(), ("convert",), ("show",)])
def test_cli_help_has_no_rest_markup(command: tuple[str, ...]) -> None:
    result = _cli(*command, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout
    assert "``" not in result.stdout and not re.search(r":(mod|func|class|meth):`", result.stdout)


def test_cli_convert_usage_line_reads_right() -> None:
    usage = _cli("convert", "--help").stdout.split("\n\n")[0]
    assert "SOURCE... STORE [SOURCE... STORE ...]" not in usage
    assert "xarray-crism convert [options] SOURCE [SOURCE ...] STORE" in usage
    assert "xarray-crism convert [options] --catalog CATALOG STORE" in usage
    assert "--catalog" in _cli("convert", "--help").stdout and "--bbox WEST SOUTH EAST NORTH" in _cli("convert", "--help").stdout


def test_cli_convert_takes_a_bbox(volumes: dict[str, Path], tmp_path: Path) -> None:
    """FRT00014679 (Gale, 4.5 S 137.4 E) is in the box; the other three products are not."""
    store = tmp_path / "gale.zarr"
    result = _cli("convert", "--catalog", str(volumes["trdr"]), "--bbox", "137", "-5", "138", "-4", "--no-progress",
                  str(store), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 converted" in result.stdout and "xr.open_datatree" in result.stdout
    tree = xr.open_datatree(store, engine="zarr")
    assert list(tree.children) == ["FRT00014679_01_IF156S_TRR3"]
    bad = _cli("convert", "--catalog", str(volumes["trdr"]), "--bbox", "137", "5", "138", "-4", str(tmp_path / "x.zarr"))
    assert "bbox" in _one_line_error(bad)


def test_cli_convert_of_one_product_still_parses(tmp_path: Path) -> None:
    store = tmp_path / "one.zarr"
    result = _cli("convert", str(LABEL), "--sidecar-dir", str(CRISM / "cdr"), "--no-progress", str(store))
    assert result.returncode == 0 and "1 converted" in result.stdout and "open_datatree" not in result.stdout, result
    assert xr.open_zarr(store).sizes["band"] == 107
    assert _cli("convert", str(store)).returncode == 2  # a store alone: neither sources nor --catalog


# --- point 8: small surprises --------------------------------------------------------------------------


def test_bayer_split_on_a_crism_product_is_an_error() -> None:
    with pytest.raises(LabelValueError, match=r"bayer = 'split'; expected 'raw' for a TRDR IF product"):
        xr.open_dataset(LABEL, engine="crism", bayer="split")
    split = xr.open_dataset(MASTCAMZ_RAW, engine="crism", bayer="split")
    assert split.sizes["band"] == 3  # where it means something, it still splits


def test_open_datatree_takes_ddr_and_bayer(volumes: dict[str, Path]) -> None:
    label = volumes["trdr"] / "trdr/2009/2009_228/frt00014679/frt00014679_01_if156s_trr3.lbl"
    ddr = volumes["ddr"] / "ddr/2009/2009_228/frt00014679/frt00014679_01_de156s_ddr1.lbl"
    cdr = [volumes["cdr"] / "cdr/wa", volumes["cdr"] / "cdr/sw"]
    tree = xr.open_datatree(label, engine="crism", ddr=ddr, sidecar_dirs=[str(d) for d in cdr])
    direct = xr.open_dataset(label, engine="crism", ddr=ddr, sidecar_dirs=[str(d) for d in cdr])
    own = tree["IF"].to_dataset()
    assert own.attrs["ddr_product_id"] == "FRT00014679_01_DE156S_DDR1"
    xr.testing.assert_equal(own.latitude, direct.latitude)
    with pytest.raises(LabelValueError, match="bayer"):
        xr.open_datatree(label, engine="crism", bayer="split")


def test_pds_label_stays_whole_and_its_repr_stays_on_one_line() -> None:
    tree = xr.open_datatree(LABEL, engine="crism", sidecar_dirs=[CRISM / "cdr"])
    label = tree["IF"].attrs["pds_label"]
    assert label == LABEL.read_bytes().decode("latin-1").replace("\r\n", "\n")  # every line, line ends made \n
    assert "\r" not in label and label.count("\n") == LABEL.read_bytes().count(b"\n")
    for text in (repr(tree), repr(tree["IF"].to_dataset())):
        lines = [x for x in text.splitlines() if "pds_label" in x]
        assert lines and all(x.rstrip().endswith("...") and "PDS_VERSION_ID" in x for x in lines)
        assert "\r" not in text and not re.search(r"^[│\s]*\\n", text, re.MULTILINE)  # no label line of its own
