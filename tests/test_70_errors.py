"""Layer 7: bad input raises a package error (a ValueError) naming file, keyword and expectation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import xarray as xr

import xarray_crism
from xarray_crism.errors import CrismError

from .conftest import TRDRS

LABEL = TRDRS[0]


def _copy(tmp_path: Path, edit: tuple[str, str] | None = None, truncate: int | None = None) -> Path:
    label = tmp_path / LABEL.name
    img = tmp_path / LABEL.with_suffix(".img").name
    shutil.copy(LABEL.with_suffix(".img"), img)
    text = LABEL.read_bytes().decode("latin-1")
    if edit is not None:
        text, n = re.subn(edit[0], edit[1], text, count=1)
        assert n == 1
    label.write_bytes(text.encode("latin-1"))
    if truncate is not None:
        with open(img, "r+b") as f:
            f.truncate(truncate)
    return label


CASES = {
    "truncated IMG": (None, 100_000, xarray_crism.TruncatedFileError, "file size", "at least"),
    "pointer outside the directory": (
        (r'\^IMAGE        =  "[^"]+"', '^IMAGE = "../../etc/passwd"'), None,
        xarray_crism.UnsafePathError, "^IMAGE", "plain file name",
    ),
    "absurd size": (
        (r"LINES             = 15", "LINES = 1000000000000"), None,
        xarray_crism.TruncatedFileError, "file size", "at least",
    ),
    "unknown SAMPLE_TYPE": (
        (r"SAMPLE_TYPE       = PC_REAL", "SAMPLE_TYPE = VAX_WEIRD"), None,
        xarray_crism.LabelValueError, "SAMPLE_TYPE", "one of",
    ),
    "label that does not parse": (
        (r"LINES             = 15", 'LINES = "15'), None, xarray_crism.LabelSyntaxError, "", "after the keyword",
    ),
    "unsupported product": (
        (r'PRODUCT_ID                     = "[^"]+"', 'PRODUCT_ID = "HELLO_WORLD"'), None,
        xarray_crism.UnsupportedProductError, "PRODUCT_ID", "TRDR IF",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_raises_a_clear_package_error(tmp_path: Path, case: str) -> None:
    edit, truncate, error, keyword, expected = CASES[case]
    label = _copy(tmp_path, edit, truncate)
    with pytest.raises(error) as info:
        xr.open_dataset(label, engine="crism").load()
    err = info.value
    assert isinstance(err, CrismError) and isinstance(err, ValueError)
    assert str(tmp_path) in err.file
    assert keyword in err.keyword
    assert expected in err.expected
    assert err.file in str(err) and expected in str(err)


def test_truncation_after_open_is_caught_at_read(tmp_path: Path) -> None:
    label = _copy(tmp_path)
    ds = xr.open_dataset(label, engine="crism")
    (tmp_path / LABEL.with_suffix(".img").name).write_bytes(b"\0" * 1000)
    with pytest.raises(xarray_crism.FileChangedError, match="changed after the product was opened"):
        _ = ds.i_over_f.values


def test_errors_pickle_with_their_fields() -> None:
    import pickle

    err = xarray_crism.LabelValueError("a.lbl", "LINES", -1, "a non-negative integer")
    again = pickle.loads(pickle.dumps(err))
    assert (again.file, again.keyword, again.value, str(again)) == ("a.lbl", "LINES", -1, str(err))
