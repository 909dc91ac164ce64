"""Layer 1: PDS3 labels. The fast parser agrees with pvl on every label of the corpus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pvl
import pytest

from xarray_crism.errors import LabelSyntaxError
from xarray_crism.labels.pds3 import Block, LabelSet, Pointer, Quantity, parse_label, parse_pointer

from .conftest import CRISM

LABELS = sorted(p for p in CRISM.rglob("*") if p.suffix.lower() == ".lbl" and "partial" not in p.parts)
PARTIAL = sorted((CRISM / "labels" / "partial").glob("*.LBL"))


def _normal(value: Any) -> Any:
    """pvl's and our values in one comparable form (pvl reads unquoted NULL as None; we keep the text)."""
    if value is None:
        return "NULL"
    if isinstance(value, Block):
        return [(k, _normal(v)) for k, v in value.items]
    if isinstance(value, (pvl.collections.PVLModule, pvl.collections.PVLObject, pvl.collections.PVLGroup)):
        return [(k.upper(), _normal(v)) for k, v in value.items() if k.upper() not in ("END_OBJECT", "END_GROUP")]
    if isinstance(value, pvl.collections.Quantity):
        return ("q", _normal(value.value), str(value.units).strip())
    if isinstance(value, Quantity):
        return ("q", _normal(value.value), value.units)
    if isinstance(value, (set, frozenset, list, tuple)):
        items = [_normal(v) for v in value]
        return sorted(map(repr, items)) if isinstance(value, (set, frozenset, LabelSet)) else items
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=None)
        except ValueError:
            return " ".join(value.split())
    if isinstance(value, (dt.datetime,)):
        return value.replace(tzinfo=None)
    return value


@pytest.mark.parametrize("path", LABELS, ids=lambda p: p.name)
def test_fast_parser_agrees_with_pvl(path: Path) -> None:
    text = path.read_text(encoding="latin-1")
    ours = parse_label(text, str(path))
    reference = pvl.loads(text)
    assert _flatten(_normal(ours)) == _flatten(_pvl_normal(reference))


def _pvl_normal(module: Any) -> Any:
    out = []
    for key, value in module.items():
        if isinstance(value, (pvl.collections.PVLObject, pvl.collections.PVLGroup)):
            kind = "OBJECT" if isinstance(value, pvl.collections.PVLObject) else "GROUP"
            out.append((kind, _pvl_normal(value)))
        else:
            out.append((key.upper(), _normal(value)))
    return out


def _flatten(items: Any, prefix: str = "") -> list[tuple[str, Any]]:
    flat = []
    for key, value in items:
        if key in ("OBJECT", "GROUP"):
            flat += _flatten(value, prefix + key + "/")
        elif key != "NAME" or not prefix:
            flat.append((prefix + key, value))
    return flat


def test_trdr_label_structure() -> None:
    label = parse_label((CRISM / "trdr" / "frt0001458f_01_if156l_trr3.lbl").read_text())
    files = list(label.blocks("FILE"))
    assert [f.get("RECORD_BYTES") for f in files] == [256, 1221]
    assert files[0].get("^ROWNUM_TABLE") == ["FRT0001458F_01_IF156L_TRR3.IMG", 6571]
    column = next(next(files[0].blocks("ROWNUM_TABLE")).blocks("COLUMN"))
    assert column.get("BIT_MASK") == 0b111111111
    assert label.get("SOLAR_DISTANCE") == Quantity(218928627.228202, "KM")
    assert label.get("MRO:INVALID_PIXEL_LOCATION") == []
    assert label.get("SOURCE_PRODUCT_ID")[0] == "CDR450924300802_DM0300000L_3"


def test_pointer_forms() -> None:
    assert parse_pointer(["F.IMG", 6571]).byte_offset(256) == 6570 * 256
    assert parse_pointer(["F.IMG", Quantity(1025, "BYTES")]) == Pointer("F.IMG", 1025, True)
    assert parse_pointer("F.IMG").byte_offset(None) == 0
    assert parse_pointer(12).byte_offset(10) == 110


def test_values_on_next_line_units_in_sets_and_case() -> None:
    label = parse_label("a =\n5\nWave = (630 <nm>,544 <nm>)\nb = 2#0101#\nc = 'sym'\nEND")
    assert label.get("A") == 5
    assert label.get("WAVE") == [Quantity(630, "nm"), Quantity(544, "nm")]
    assert label.get("B") == 5
    assert label.get("C") == "sym"


@pytest.mark.parametrize("path", PARTIAL, ids=lambda p: p.name)
def test_truncated_labels_raise_a_syntax_error_naming_the_file(path: Path) -> None:
    with pytest.raises(LabelSyntaxError, match=path.name):
        parse_label(path.read_text(encoding="latin-1"), str(path))


@pytest.mark.parametrize(
    "text, keyword",
    [("A = (1, 2\nEND", "A"), ("A = \"open\nEND", "label text"), ("= 3\nEND", "keyword"), ("A 3\nEND", "A")],
)
def test_syntax_errors_name_the_keyword(text: str, keyword: str) -> None:
    with pytest.raises(LabelSyntaxError) as info:
        parse_label(text, "bad.lbl")
    assert info.value.file == "bad.lbl"
    assert info.value.keyword == keyword
