"""PDS4 XML labels: ``parse_pds4_label`` turns label text into plain structures.

XML is parsed with ``defusedxml``: DTDs, entity declarations and external references are
refused (:class:`~xarray_crism.errors.LabelSyntaxError`), so a label can neither expand into
gigabytes nor make us open another file or URL. Namespaces are dropped from names (PDS4 local
names do not clash within the classes we read). The whole label also becomes a
:class:`~xarray_crism.labels.pds3.Block` tree (one block per XML class, one item per attribute, a
``unit`` kept as :class:`~xarray_crism.labels.pds3.Quantity`), so the rest of the package reads PDS3 and
PDS4 labels through the same structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ..errors import LabelSyntaxError, LabelValueError
from .pds3 import Block, Quantity

__all__ = ["BlockIndex", "Pds4Array", "Pds4Axis", "Pds4FileArea", "Pds4Label", "find_path", "index_blocks", "parse_pds4_label"]

#: Every class of a label tree by local name, in document order.
BlockIndex = dict[str, list[Block]]

_INT = re.compile(r"[+-]?\d{1,300}\Z")
MAX_DEPTH = 100
_REAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?\Z")


@dataclass(frozen=True)
class Pds4Axis:
    """One ``Axis_Array``: its name and length."""

    name: str
    elements: int


@dataclass(frozen=True)
class Pds4Array:
    """One ``Array*`` class of a ``File_Area_Observational``, axes in storage order (slowest first)."""

    name: str
    local_identifier: str | None
    offset: int
    axis_index_order: str
    data_type: str
    axes: tuple[Pds4Axis, ...]
    scaling_factor: float | None = None
    value_offset: float | None = None
    unit: str | None = None
    special_constants: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pds4FileArea:
    """A data file and the arrays it holds."""

    file_name: str
    arrays: tuple[Pds4Array, ...]


@dataclass(frozen=True)
class Pds4Label:
    """A PDS4 label: the whole tree as a Block, its classes by name, and its file areas."""

    tree: Block
    index: BlockIndex
    logical_identifier: str | None
    file_areas: tuple[Pds4FileArea, ...]


def parse_pds4_label(text: str, filename: str) -> Pds4Label:
    """Parse a PDS4 product label (``Product_Observational`` and kin) safely."""
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise LabelSyntaxError(filename, "XML", type(err).__name__, "a PDS4 label without DTD or entities") from None
    except ParseError as err:
        raise LabelSyntaxError(filename, "XML", str(err), "well-formed XML") from None
    tree = _to_block(root, filename)
    areas = tuple(_file_area(a, filename) for a in _children(root, "File_Area_Observational"))
    index = index_blocks(tree)
    return Pds4Label(tree, index, find_path(index, "Identification_Area/logical_identifier"), areas)


def index_blocks(tree: Block) -> BlockIndex:
    """The classes of ``tree`` by local name (one walk, for many :func:`find_path` lookups)."""
    index: BlockIndex = {}
    for block in tree.walk():
        index.setdefault(block.name, []).append(block)
    return index


def find_path(index: BlockIndex, path: str, default: Any = None) -> Any:
    """The first value at ``path`` (``Class/.../leaf``: local names), the first class anywhere in the tree."""
    first, *classes, leaf = path.split("/")
    for start in index.get(first, []):
        for found in _descend(start, classes):
            if leaf in found:
                return found.get(leaf)
    return default


def _descend(block: Block, classes: list[str]) -> Iterator[Block]:
    if not classes:
        yield block
        return
    for child in block.blocks(classes[0]):
        yield from _descend(child, classes[1:])


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child.tag) == name)


def _to_block(element: Element, filename: str, depth: int = 0) -> Block:
    if depth > MAX_DEPTH:
        raise LabelSyntaxError(filename, "XML", _local(element.tag), f"classes nested at most {MAX_DEPTH} deep")
    block = Block(_local(element.tag), "CLASS")
    for child in element:
        if len(child):
            block.items.append(("CLASS", _to_block(child, filename, depth + 1)))
        else:
            block.items.append((_local(child.tag), _leaf_value(child)))
    return block


def _leaf_value(element: Element) -> Any:
    text = " ".join((element.text or "").split())
    value: Any = int(text) if _INT.match(text) else float(text) if _REAL.match(text) else text
    unit = element.get("unit")
    return Quantity(value, unit) if unit else value


def _text(element: Element, name: str) -> str | None:
    child = next(_children(element, name), None)
    return None if child is None or child.text is None else child.text.strip()


def _number(element: Element, name: str, label: str, where: str, required: bool = True) -> float | int | None:
    text = _text(element, name)
    if text is None and not required:
        return None
    try:
        return int(text) if text is not None and _INT.match(text) else float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise LabelValueError(label, f"{where}/{name}", text, "a number") from None


def _file_area(area: Element, label: str) -> Pds4FileArea:
    file = next(_children(area, "File"), None)
    name = None if file is None else _text(file, "file_name")
    if not name:
        raise LabelValueError(label, "File_Area_Observational/File/file_name", name, "the name of the data file")
    arrays = tuple(_array(a, label) for a in area if _local(a.tag).startswith("Array"))
    return Pds4FileArea(name, arrays)


def _array(element: Element, label: str) -> Pds4Array:
    where = _local(element.tag)
    offset = _number(element, "offset", label, where)
    if not isinstance(offset, int) or offset < 0:
        raise LabelValueError(label, f"{where}/offset", offset, "a non-negative byte offset")
    elements = next(_children(element, "Element_Array"), None)
    if elements is None:
        raise LabelValueError(label, f"{where}/Element_Array", None, "an Element_Array with a data_type")
    axes = sorted((_axis(a, label, where) for a in _children(element, "Axis_Array")), key=lambda a: a[0])
    if [n for n, _ in axes] != list(range(1, len(axes) + 1)):
        raise LabelValueError(label, f"{where}/Axis_Array/sequence_number", [n for n, _ in axes], f"1 to {len(axes)}, once each")
    constants = next(_children(element, "Special_Constants"), None)
    return Pds4Array(
        name=where,
        local_identifier=_text(element, "local_identifier"),
        offset=offset,
        axis_index_order=_text(element, "axis_index_order") or "",
        data_type=_text(elements, "data_type") or "",
        axes=tuple(axis for _, axis in axes),
        scaling_factor=_optional_float(elements, "scaling_factor", label, where),
        value_offset=_optional_float(elements, "value_offset", label, where),
        unit=_text(elements, "unit"),
        special_constants={} if constants is None else {_local(c.tag): (c.text or "").strip() for c in constants},
    )


def _optional_float(element: Element, name: str, label: str, where: str) -> float | None:
    value = _number(element, name, label, f"{where}/Element_Array", required=False)
    return None if value is None else float(value)


def _axis(element: Element, label: str, where: str) -> tuple[int, Pds4Axis]:
    name = _text(element, "axis_name") or ""
    elements = _number(element, "elements", label, f"{where}/Axis_Array {name}")
    sequence = _number(element, "sequence_number", label, f"{where}/Axis_Array {name}")
    if not isinstance(elements, int) or elements < 1 or not isinstance(sequence, int):
        raise LabelValueError(
            label, f"{where}/Axis_Array {name}", (elements, sequence), "positive integer elements and sequence_number"
        )
    return sequence, Pds4Axis(name, elements)
