"""The fast paths of an open (issue 20) give exactly what the paths they replace give.

- ODL statements matched whole (``parse_label``) against the token-by-token parser (``fast=False``):
  every label of the corpus, attached headers included, and mutated labels (same blocks, or the same
  error);
- a :class:`Block`'s first-value index against a scan of its items;
- the ``END`` line found by a byte search against the regular expression over the whole head;
- one Dataset built per open (``build_decoded_dataset``) against ``decode_dataset(build_dataset(...))``
  on every product of the corpus.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from xarray_crism.errors import CrismError
from xarray_crism.formats.conventions import build_masked_constants
from xarray_crism.labels.headers import _END, _find_end
from xarray_crism.labels.pds3 import BasedInteger, Block, LabelSet, Quantity, parse_label
from xarray_crism.model.pipeline import open_product
from xarray_crism.xr.dataset import build_dataset, build_decoded_dataset
from xarray_crism.xr.decode import decode_variable

from .conftest import CORPUS

LABEL_FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in (".lbl", ".fmt", ".img"))
#: Every product with its data (``labels/`` directories hold labels without their data files).
PRODUCTS = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in (".lbl", ".img", ".xml")
                  and "labels" not in p.relative_to(CORPUS).parts)
#: Pieces that make mutated labels hit every path: quotes, comments, units, lists, sets, block ends.
PIECES = ['"', "'", "<", ">", "/*", "*/", "(", ")", "{", "}", ",", "=", "\n", " ", "END", "END_OBJECT", "END_GROUP",
          "OBJECT = X", "16#FF#", "1.5e3", "-7", "é", "\x00"]


def _head(path: Path) -> str:
    return path.read_bytes()[:120_000].decode("latin-1")


def _typed(value: Any) -> Any:
    """A value with its exact types spelled out (``==`` takes 1 for 1.0 and a LabelSet for a list)."""
    if isinstance(value, Block):
        return ("block", value.name, value.kind, [(k, _typed(v)) for k, v in value.items])
    if isinstance(value, Quantity):
        return ("quantity", _typed(value.value), value.units)
    if isinstance(value, list):
        return (type(value).__name__, [_typed(v) for v in value])
    return (type(value).__name__, value)


def _parsed(text: str, fast: bool) -> Any:
    try:
        return _typed(parse_label(text, "mutated.lbl", fast=fast))
    except CrismError as err:
        return ("error", type(err).__name__, str(err))


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.name)
def test_statements_matched_whole_give_the_token_parsers_blocks(path: Path) -> None:
    text = _head(path)
    fast = _parsed(text, True)
    assert fast == _parsed(text, False)
    if path.suffix.lower() == ".lbl":  # a whole label parses; a truncated one fails alike on both paths
        assert fast[0] == ("error" if "partial" in path.parts else "block")


def test_fast_parser_keeps_types_of_every_value_form() -> None:
    label = parse_label('A = 16#FF# <B>\nB = {1, "x  y"}\nC = (1 <m>, 2.5, \'s\')\nD = ()\nE = 007\nEND\n')
    assert isinstance(label.get("A").value, BasedInteger) and label.get("A") == Quantity(255, "B")
    assert isinstance(label.get("B"), LabelSet) and label.get("B") == [1, "x y"]
    assert label.get("C") == [Quantity(1, "m"), 2.5, "s"] and not isinstance(label.get("C"), LabelSet)
    assert label.get("D") == [] and label.get("E") == 7


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(LABEL_FILES[:40]), st.lists(st.tuples(st.integers(0, 6000), st.sampled_from(PIECES),
                                                             st.booleans()), min_size=1, max_size=6))
def test_mutated_labels_give_the_same_blocks_or_the_same_error(path: Path, edits: list[tuple[int, str, bool]]) -> None:
    text = _head(path)[:6000]
    for position, piece, replace in edits:
        at = min(position, len(text))
        text = text[:at] + piece + text[at + (len(piece) if replace else 0):]
    assert _parsed(text, True) == _parsed(text, False)


def test_block_index_follows_appended_items() -> None:
    block = parse_label("A = 1\nA = 2\nOBJECT = X\nEND_OBJECT = X\nEND\n")
    assert block.get("A") == 1 and "A" in block and "B" not in block and block.get("B", 3) == 3
    block.items.append(("B", 4))
    assert block.get("B") == 4 and "B" in block
    not_a_keyword: Any = None
    assert block.get(not_a_keyword) is None and 5 not in block  # no error, nothing found


def _end_by_pattern(data: bytes, size: int) -> int | None:
    for match in _END.finditer(data):
        if match.group().endswith(b"\n") or len(data) >= size:
            return match.end()
    return None


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.name)
def test_end_found_by_byte_search_is_the_patterns(path: Path) -> None:
    data = path.read_bytes()[:70_000]
    for cut in (len(data), len(data) // 2, 4096, 100):
        for size in (cut, cut + 10):
            assert _find_end(data[:cut], size) == _end_by_pattern(data[:cut], size)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"END", b"\n", b"\r", b" ", b"\t", b"END_OBJECT", b"x", b"\r\n"]), max_size=14),
       st.integers(0, 10))
def test_end_in_generated_heads(pieces: list[bytes], extra: int) -> None:
    data = b"".join(pieces)
    assert _find_end(data, len(data) + extra) == _end_by_pattern(data, len(data) + extra)


def decode_dataset(ds: xr.Dataset, mask_and_scale: bool) -> xr.Dataset:
    """The reference: the path an open took before one Dataset was built per open (kept here, frozen):
    the reader decodes what it can, ``assign`` twice, then xarray's ``decode_cf``, constants listed."""
    if mask_and_scale:
        replaced = {str(k): decode_variable(v) for k, v in ds.variables.items() if k not in ds.xindexes}
        decoded = {k: v for k, v in replaced.items() if v is not None}
        coords = {k: v for k, v in decoded.items() if k in ds.coords}
        ds = ds.assign({k: v for k, v in decoded.items() if k not in coords}).assign_coords(coords)
    out = xr.decode_cf(ds, mask_and_scale=mask_and_scale, decode_times=False, decode_coords=False)
    if mask_and_scale:
        for var in out.variables.values():
            if "missing_value" in var.encoding:
                var.attrs["masked_constants"] = build_masked_constants(var.encoding.pop("missing_value"))
    return out


def _same(a: xr.Dataset, b: xr.Dataset) -> None:
    assert a.identical(b)
    assert list(a.variables) == list(b.variables) and list(a.coords) == list(b.coords) and set(a.xindexes) == set(b.xindexes)
    for name in a.variables:
        assert {k: str(v) for k, v in a[name].encoding.items()} == {k: str(v) for k, v in b[name].encoding.items()}, name
        assert type(a[name].variable._data) is type(b[name].variable._data), name


@pytest.mark.parametrize("path", PRODUCTS, ids=lambda p: p.name)
def test_one_dataset_per_open_is_the_decoded_dataset(path: Path) -> None:
    product = open_product(path)
    dropped = [name for name in product.variables if re.match(r"hk_", name)][:2]
    for mask_and_scale in (True, False):
        for drop in (None, dropped):
            slow = decode_dataset(build_dataset(product, drop), mask_and_scale)
            _same(slow, build_decoded_dataset(product, drop, mask_and_scale))


def test_opened_mastcamz_radiance_is_decoded_as_xarray_decodes() -> None:
    path = sorted((CORPUS / "mastcamz" / "rad").glob("*.IMG"))[0]
    fast = xr.open_dataset(path, engine="crism").radiance.values
    slow = xr.decode_cf(xr.open_dataset(path, engine="crism", mask_and_scale=False), decode_times=False).radiance.values
    np.testing.assert_array_equal(fast, slow)
    assert np.isnan(fast).any() and fast.dtype == np.float64
