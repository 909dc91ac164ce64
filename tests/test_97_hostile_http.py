"""Layer 9: hostile servers and archives (issue 18). A server that answers another range, another file,
another version, a gzip bomb, refuses listings, links out of the directory or sends files without a
size; case variants beside a product; index rows and inventories that lead out; local files rewritten
in ways size and mtime do not show. Each gives the file's values or a package error, never wrong values."""

from __future__ import annotations

import os
import re
import shutil
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import fsspec
import numpy as np
import pytest
import xarray as xr

import xarray_crism
from xarray_crism.errors import (
    FileChangedError,
    LabelSyntaxError,
    LabelValueError,
    RemoteReadError,
    SidecarNotFoundError,
    UnsafePathError,
)
from xarray_crism.testing.volume import write_index, write_mastcamz_bundle

from .conftest import CORPUS, CRISM
from .hostile_http import BOMB_BYTES, HostileServer, gzip_bomb
from .http_server import RangeServer

LABEL = CRISM / "trdr" / "frt00014679_01_if156s_trr3.lbl"
IMG = LABEL.with_suffix(".img")
UPPER_IMG = "FRT00014679_01_IF156S_TRR3.IMG"  # the name the label gives
CDR = CRISM / "cdr"


def _load(location: str | Path) -> xr.Dataset:
    with xr.open_dataset(location, engine="crism", mask_and_scale=False, sidecar_dirs=[str(CDR)]) as ds:
        return ds.load()


def _other_bytes(path: Path, size: int | None = None) -> Path:
    """A file at ``path`` of ``size`` bytes (default: the image's) that holds other values than the image."""
    data = IMG.read_bytes()[::-1]
    size = len(data) if size is None else size
    path.write_bytes((data * (size // len(data) + 1))[:size])
    return path


@pytest.fixture(scope="module")
def expected() -> xr.Dataset:
    return _load(LABEL)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, HostileServer]]:
    """``prod/`` (the TRDR, label and image as shipped) and ``elsewhere/`` on a hostile server."""
    fsspec.filesystem("http").clear_instance_cache()
    prod = tmp_path / "prod"
    prod.mkdir()
    for f in (LABEL, IMG):
        shutil.copy(f, prod / f.name)
    (tmp_path / "elsewhere").mkdir()
    with HostileServer(tmp_path) as server:
        yield prod, server


def _open_remote(server: HostileServer) -> xr.Dataset:
    return xr.open_dataset(f"{server.url}/prod/{LABEL.name}", engine="crism", mask_and_scale=False,
                           sidecar_dirs=[str(CDR)])


def _image_gets(server: HostileServer) -> list[str]:
    return [r[2].get("Range", "") for r in server.requests if r[0] == "GET" and r[1].endswith(IMG.name)]


# --- 1: a 206 answer is checked against the range asked and the file stamped at open -----------------

def test_the_honest_server_reads_like_local(site: tuple[Path, HostileServer], expected: xr.Dataset) -> None:
    _, server = site
    got = _open_remote(server).load()
    xr.testing.assert_equal(got.drop_attrs(), expected.drop_attrs())
    assert all(r[2].get("Accept-Encoding") == "identity" for r in server.requests if r[0] == "GET" and "Range" in r[2])


def test_a_range_from_another_offset_is_refused(site: tuple[Path, HostileServer]) -> None:
    _, server = site
    ds = _open_remote(server)
    server.set("offset", IMG.name)
    with pytest.raises(RemoteReadError, match="other bytes than the range") as info:
        ds.i_over_f.isel(line=1).values  # noqa: B018
    assert info.value.file.endswith(f"/prod/{IMG.name}")
    assert info.value.keyword.startswith("bytes ")
    assert len(_image_gets(server)) == 2, "one retry, then the error"


@pytest.mark.parametrize("size", ["same size", "larger"])
def test_another_files_bytes_are_refused(site: tuple[Path, HostileServer], tmp_path: Path, size: str) -> None:
    _, server = site
    ds = _open_remote(server)
    other = _other_bytes(tmp_path / "other.img", None if size == "same size" else IMG.stat().st_size + 4096)
    server.set("other", IMG.name, other)
    with pytest.raises(FileChangedError, match="ETag" if size == "same size" else "size") as info:
        ds.i_over_f.isel(line=1).values  # noqa: B018
    assert info.value.file.endswith(f"/prod/{IMG.name}") and "bytes " in info.value.keyword


@pytest.mark.parametrize("size", ["same size", "larger"])
def test_a_file_replaced_on_the_server_after_open_is_refused(
    site: tuple[Path, HostileServer], tmp_path: Path, size: str, expected: xr.Dataset,
) -> None:
    prod, server = site
    ds = _open_remote(server)
    new = _other_bytes(tmp_path / "new.img", None if size == "same size" else IMG.stat().st_size + 4096)
    os.replace(new, prod / IMG.name)  # an atomic replace, as rsync and mirror tools do
    with pytest.raises(FileChangedError, match="open it again"):
        ds.i_over_f.isel(line=1).values  # noqa: B018
    shutil.copy(IMG, prod / IMG.name)
    xr.testing.assert_equal(_open_remote(server).load().drop_attrs(), expected.drop_attrs())


def test_an_etag_that_changed_since_open_is_refused(site: tuple[Path, HostileServer]) -> None:
    _, server = site
    ds = _open_remote(server)
    server.set("etag", IMG.name)
    with pytest.raises(FileChangedError, match="ETag"):
        ds.i_over_f.isel(line=1).values  # noqa: B018


# --- 9b: a gzip answer to a range is refused before inflating it --------------------------------------

def test_a_gzip_range_answer_is_refused_unread(site: tuple[Path, HostileServer]) -> None:
    _, server = site
    gzip_bomb()  # made before measuring
    ds = _open_remote(server)
    server.set("gzip", IMG.name)
    tracemalloc.start()
    try:
        with pytest.raises(RemoteReadError, match="Content-Encoding: gzip"):
            ds.i_over_f.isel(line=1).values  # noqa: B018
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < BOMB_BYTES // 8, f"{peak} bytes allocated: the answer was inflated"
    assert all(r[2].get("Accept-Encoding") == "identity" for r in server.requests if r[0] == "GET")


# --- 10, 4: listings refused, or linking out of the directory ----------------------------------------

@pytest.mark.parametrize("status", ["401", "403", "405"])
def test_refused_listings_mean_probing_names(
    site: tuple[Path, HostileServer], status: str, expected: xr.Dataset,
) -> None:
    _, server = site
    server.set(status)
    got = _open_remote(server).load()
    xr.testing.assert_equal(got.drop_attrs(), expected.drop_attrs())
    assert any(r[0] == "GET" and r[1].rstrip("/").endswith("/prod") for r in server.requests), "the listing was asked for"


def test_listing_links_out_of_the_directory_are_not_followed(site: tuple[Path, HostileServer]) -> None:
    _, server = site
    _other_bytes(site[0].parent / "elsewhere" / UPPER_IMG)
    server.set("parent-links", UPPER_IMG)
    with pytest.raises(SidecarNotFoundError, match="IMAGE"):
        _open_remote(server).load()
    assert not [r for r in server.requests if "elsewhere" in r[1]]


# --- 11 (first bullet): a file without a size -----------------------------------------------------------

def test_a_file_without_a_size_is_a_package_error(site: tuple[Path, HostileServer]) -> None:
    _, server = site
    server.set("chunked", IMG.name)
    with pytest.raises(RemoteReadError, match="without a size") as info:
        _open_remote(server)
    assert info.value.file.endswith(f"/prod/{IMG.name}")


# --- 2: case variants beside the product ----------------------------------------------------------------

@pytest.mark.parametrize("where", ["local", "http"])
@pytest.mark.parametrize("pointer", ["lower", "upper"])
def test_the_exact_name_is_read_before_a_case_variant(
    site: tuple[Path, HostileServer], where: str, pointer: str, expected: xr.Dataset,
) -> None:
    prod, server = site
    exact = IMG.name if pointer == "lower" else UPPER_IMG
    variant = UPPER_IMG if pointer == "lower" else IMG.name
    text = LABEL.read_text("latin-1").replace(UPPER_IMG, exact)
    (prod / IMG.name).unlink()
    shutil.copy(IMG, prod / exact)
    _other_bytes(prod / variant)
    (prod / LABEL.name).write_text(text, "latin-1")
    got = _load(prod / LABEL.name) if where == "local" else _open_remote(server).load()
    xr.testing.assert_equal(got.drop_attrs(), expected.drop_attrs())


@pytest.mark.parametrize("same", [True, False], ids=["same bytes", "other bytes"])
def test_case_variants_without_the_exact_name(site: tuple[Path, HostileServer], same: bool, expected: xr.Dataset) -> None:
    prod, _ = site  # the label names FRT..._TRR3.IMG; frt..._trr3.img is beside it, and now Frt..._Trr3.Img
    variant = prod / "Frt00014679_01_If156s_Trr3.Img"
    shutil.copy(IMG, variant) if same else _other_bytes(variant)
    if same:
        xr.testing.assert_equal(_load(prod / LABEL.name).drop_attrs(), expected.drop_attrs())
        return
    with pytest.raises(LabelValueError, match="hold different bytes"):
        _load(prod / LABEL.name)


# --- 4: index rows and inventories that lead out of the volume -------------------------------------------

def test_percent_encoded_index_rows_are_refused(tmp_path: Path) -> None:
    volume = tmp_path / "mrocr_2104"
    (volume / "index").mkdir(parents=True)
    (volume / "trdr").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    for f in (LABEL, IMG):
        shutil.copy(f, outside / f.name)
    row = {"VOLUME_ID": "MROCR_2104", "PRODUCT_ID": "FRT00014679_01_IF156S_TRR3",
           "FILE_SPECIFICATION_NAME": f"TRDR/%2E%2E/%2e%2e/OUTSIDE/{LABEL.stem.upper()}.LBL"}
    write_index(volume / "index" / "index.lbl", [row], table_name="index.tab")
    fsspec.filesystem("http").clear_instance_cache()
    with HostileServer(tmp_path) as server:
        with pytest.raises(UnsafePathError, match="percent-encoded"):
            cat = xarray_crism.open_catalog(f"{server.url}/mrocr_2104/", path_case="lower")
            cat["FRT00014679_01_IF156S_TRR3"].read()
        assert not [r for r in server.requests if "outside" in r[1].lower()]


@pytest.mark.parametrize("name", ["../../outside.csv", "/etc/passwd", "%2E%2E/%2E%2E/outside.csv"])
def test_pds4_inventory_names_that_leave_the_collection_are_refused(tmp_path: Path, name: str) -> None:
    image = sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))[0]
    bundle = write_mastcamz_bundle(tmp_path / "archive", [image])
    collection = bundle / "data" / "collection_data.xml"
    inventory = (bundle / "data" / "collection_data_inventory.csv").read_text()
    (bundle.parent / "outside.csv").write_text(inventory)  # where ../../outside.csv leads from data/
    text, n = re.subn(r"<file_name>collection_data_inventory.csv</file_name>", f"<file_name>{name}</file_name>",
                      collection.read_text(encoding="utf-8"))
    assert n == 1
    collection.write_text(text, encoding="utf-8")
    with pytest.raises(UnsafePathError, match="file_name"):
        xarray_crism.open_catalog(bundle)


# --- 12: local files rewritten in ways that size and mtime do not show -------------------------------------

@pytest.mark.parametrize("how", ["rewritten in place, mtime put back", "replaced atomically, mtime put back"])
def test_local_changes_that_keep_size_and_mtime_are_caught(tmp_path: Path, how: str, expected: xr.Dataset) -> None:
    shutil.copy(LABEL, tmp_path)
    img = Path(shutil.copy(IMG, tmp_path))
    ds = xr.open_dataset(tmp_path / LABEL.name, engine="crism", mask_and_scale=False, sidecar_dirs=[CDR])
    np.testing.assert_array_equal(ds.i_over_f.isel(line=0).values, expected.i_over_f.isel(line=0).values)
    st = img.stat()
    if how.startswith("rewritten"):
        img.write_bytes(_other_bytes(tmp_path / "new.bin").read_bytes())
    else:
        os.replace(_other_bytes(tmp_path / "new.bin"), img)
    os.utime(img, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (img.stat().st_size, img.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    with pytest.raises(FileChangedError, match="open it again"):
        ds.i_over_f.isel(line=1).values  # noqa: B018
    ds.close()


def test_a_data_file_refused_by_the_server_is_a_package_error_at_once(tmp_path: Path) -> None:
    for f in (LABEL, IMG):
        shutil.copy(f, tmp_path / f.name)
    fsspec.filesystem("http").clear_instance_cache()
    with RangeServer(tmp_path) as server:
        ds = xr.open_dataset(f"{server.url}/{LABEL.name}", engine="crism", sidecar_dirs=[str(CDR)])
        server.reset(faults=["403", "403"])
        with pytest.raises(RemoteReadError, match="HTTP 403") as info:
            ds.i_over_f.isel(line=1).values  # noqa: B018
        assert info.value.file.endswith(IMG.name)
        assert server.httpd.faults == ["403"], "not retried"


# --- issue 20 #5: fewer requests at open, the same checks ----------------------------------------------

WA = CDR / "CDR450924300802_WA0300000S_2"  # the WA CDR the TRDR's label names
MASTCAMZ = sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))[0]


def _requests(server: HostileServer) -> list[tuple[str, str, str | None]]:
    return [(method, path, headers.get("Range")) for method, path, headers in server.requests]


def test_a_trdr_and_its_wa_cdr_open_in_five_requests_each_file_asked_once(
    site: tuple[Path, HostileServer], expected: xr.Dataset,
) -> None:
    prod, server = site
    for suffix in (".LBL", ".IMG"):
        shutil.copy(WA.with_suffix(suffix), prod)
    server.set()
    ds = xr.open_dataset(f"{server.url}/prod/{LABEL.name}", engine="crism", mask_and_scale=False)
    assert _requests(server) == [
        ("GET", f"/prod/{LABEL.name}", "bytes=0-65535"),  # the label, its size from Content-Range: no HEAD
        ("GET", "/prod/", None),  # one listing (the IMG's case, the WA, SW tables), shared with the WA's open
        ("HEAD", f"/prod/{IMG.name}", None),  # the data file stamped at open
        ("GET", f"/prod/{WA.name}.LBL", "bytes=0-65535"),
        ("HEAD", f"/prod/{WA.name}.IMG", None),
    ]
    assert ds.pixel_wavelength.attrs["source"] == WA.name
    xr.testing.assert_equal(ds.load().drop_attrs(), expected.drop_attrs())


@pytest.mark.parametrize("change", ["etag", "replaced, larger"])
def test_an_attached_label_opens_in_one_request_that_stamps_its_data(tmp_path: Path, change: str) -> None:
    """A Mastcam-Z IMG is its own label: the label's GET gives the size, ETag and Last-Modified its reads are held to."""
    shutil.copy(MASTCAMZ, tmp_path)
    fsspec.filesystem("http").clear_instance_cache()
    with HostileServer(tmp_path) as server:
        ds = xr.open_dataset(f"{server.url}/{MASTCAMZ.name}", engine="crism")
        assert _requests(server) == [("GET", f"/{MASTCAMZ.name}", "bytes=0-65535")]
        if change == "etag":
            server.set("etag", MASTCAMZ.name)
        else:
            _other_bytes(tmp_path / "new.img", MASTCAMZ.stat().st_size + 4096).replace(tmp_path / MASTCAMZ.name)
        with pytest.raises(FileChangedError, match="ETag" if change == "etag" else "size"):
            ds.load()


def test_an_attached_label_read_over_http_equals_the_local_one(tmp_path: Path) -> None:
    shutil.copy(MASTCAMZ, tmp_path)
    fsspec.filesystem("http").clear_instance_cache()
    local = xr.open_dataset(MASTCAMZ, engine="crism").load()
    with HostileServer(tmp_path) as server:
        remote = xr.open_dataset(f"{server.url}/{MASTCAMZ.name}", engine="crism").load()
    xr.testing.assert_identical(remote.drop_attrs(), local.drop_attrs())


def test_a_label_served_without_a_size_is_a_package_error(site: tuple[Path, HostileServer]) -> None:
    _, server = site
    server.set("chunked", LABEL.name)
    with pytest.raises(RemoteReadError, match="without a size") as info:
        _open_remote(server)
    assert info.value.file.endswith(f"/prod/{LABEL.name}")


def test_an_empty_label_fails_over_http_as_it_does_locally(site: tuple[Path, HostileServer]) -> None:
    prod, server = site
    (prod / "empty.lbl").write_bytes(b"")
    with pytest.raises(LabelSyntaxError) as local:
        xr.open_dataset(prod / "empty.lbl", engine="crism")
    with pytest.raises(LabelSyntaxError) as remote:
        xr.open_dataset(f"{server.url}/prod/empty.lbl", engine="crism")
    assert (remote.value.keyword, remote.value.value) == (local.value.keyword, local.value.value)


@pytest.mark.parametrize("key", [{"band": [0, 5, 9]}, {"sample": slice(3, 40, 2)}, {"line": 7, "sample": 20}])
def test_partial_reads_into_one_buffer_equal_the_local_ones(
    site: tuple[Path, HostileServer], expected: xr.Dataset, key: dict[str, object],
) -> None:
    _, server = site
    got = _open_remote(server).i_over_f.isel(key).values  # many ranges, each read into its slice of one buffer
    np.testing.assert_array_equal(got, expected.i_over_f.isel(key).values)


_HEAD_ANSWERS = [  # (status, headers) of the answer to "Range: bytes=0-65535" -> (size, body bytes to read) or the error
    (206, {"Content-Range": "bytes 0-9437/9438", "Content-Length": "9438", "ETag": '"a"'}, (9438, 9438)),
    (206, {"Content-Range": "bytes 0-65535/4004640", "Content-Length": "65536"}, (4004640, 65536)),
    (206, {"Content-Range": "bytes 0-1023/9438", "Content-Length": "1024"}, (9438, 1024)),  # honest, shorter: kept
    (200, {"Content-Length": "4004640"}, (4004640, 65536)),  # Range ignored: the first 64 KiB only are read
    (206, {"Content-Range": "bytes 4096-69631/4004640", "Content-Length": "65536"}, "other bytes"),
    (206, {"Content-Range": "bytes 0-9437/9438", "Content-Length": "9000"}, "other bytes"),
    (206, {"Content-Range": "bytes 0-9437/*", "Content-Length": "9438"}, "without a size"),
    (200, {"Transfer-Encoding": "chunked"}, "without a size"),
    (206, {"Content-Range": "bytes 0-9437/9438", "Content-Encoding": "gzip"}, "Content-Encoding: gzip"),
    (302, {"Location": "/elsewhere"}, "HTTP 302"),
]


@pytest.mark.parametrize(("status", "headers", "want"), _HEAD_ANSWERS)
def test_the_answer_to_a_labels_first_get_is_checked(status: int, headers: dict[str, str], want: object) -> None:
    from xarray_crism.io.http import MismatchedAnswer, check_head_answer

    if isinstance(want, tuple):
        stamp, length = check_head_answer("http://h/x.lbl", 65536, status, headers)
        assert (stamp.size, length, stamp.etag) == (*want, headers.get("ETag"))
        return
    with pytest.raises((RemoteReadError, MismatchedAnswer), match=str(want)):
        check_head_answer("http://h/x.lbl", 65536, status, headers)
