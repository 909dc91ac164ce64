"""PDS3 ODL labels: ``parse_label`` turns label text into a :class:`Block` tree.

The parser is a single-pass tokenizer written for the ODL subset found in PDS3 archives (CRISM,
Mastcam-Z attached headers, ISIS re-serialised labels). Most statements (``KEY = value [<unit>]``,
the value a string, a symbol, a word or a flat list of them) are matched whole by one regular
expression; whatever else (nested lists, block ends, errors) is read token by token. Both paths give
the same blocks and the same errors (``parse_label(..., fast=False)`` is the token path alone; the
tests compare them). The test suite checks that it agrees with ``pvl`` on every label of the corpus.

Conventions, chosen to make attributes JSON-serialisable and lookups robust:

- keys are upper-cased (ISIS writes some keywords in lower or mixed case);
- quoted strings have their runs of white space collapsed to one space;
- unquoted words are ints, floats, based integers (``16#0001458F#``) or, failing those, strings
  (symbols, dates and times are kept as text);
- a value followed by ``<unit>`` becomes a :class:`Quantity`;
- sequences ``( )`` become lists, sets ``{ }`` become :class:`LabelSet` lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NoReturn

from ..errors import LabelSyntaxError, LabelValueError

__all__ = ["BasedInteger", "Block", "LabelSet", "Pointer", "Quantity", "parse_label", "parse_pointer", "plain"]

MAX_LABEL_CHARS = 10 * 1024 * 1024
MAX_POINTER_START = 2**40  # records or bytes: beyond any file of the archives, and far from int64 overflow
#: OBJECT/GROUP blocks and ``( )``/``{ }`` collections nested deeper than this are refused.
MAX_DEPTH = 100
#: Integers written with more digits than this are refused (Python refuses over 4,300).
MAX_DIGITS = 300
#: The radixes of based integers (PDS3 Standards 12.3.2.1 name 2, 8 and 16).
RADIXES = range(2, 17)

_SKIP = r"(?:\s+|/\*.*?\*/)*+"  # white space and comments, never backtracked into
_WORD = r"""(?!/\*)[^\s=(){},"'<>]++"""
#: One token after any white space and comments; ``error`` is a character no token starts with.
_TOKEN = re.compile(
    _SKIP + rf"""(?:
     (?P<string>"[^"]*")
    |(?P<symbol>'[^']*')
    |(?P<unit><[^>]*>)
    |(?P<punct>[=(){{}},])
    |(?P<word>{_WORD})
    |(?P<error>.)
    |(?P<eof>\Z))
    """,
    re.VERBOSE | re.DOTALL,
)
_SIMPLE = rf"""(?:"[^"]*"|'[^']*'|{_WORD})"""
_ELEMENTS = rf"{_SKIP}(?:{_SIMPLE}(?:{_SKIP}<[^>]*>)?{_SKIP}(?:,{_SKIP}{_SIMPLE}(?:{_SKIP}<[^>]*>)?{_SKIP})*)?"
#: The common statement ``KEY = value [<unit>]``, the value a quoted string, a symbol, a word or a flat
#: ``( )``/``{ }`` list of them, matched at once: exactly the tokens the token path would read (tested).
_STATEMENT = re.compile(
    _SKIP + rf"""({_WORD}){_SKIP}={_SKIP}({_SIMPLE}|(?>\({_ELEMENTS}\)|\{{{_ELEMENTS}\}}))(?:{_SKIP}<([^>]*)>)?""",
    re.DOTALL,
)
#: One element of a flat list that :data:`_STATEMENT` matched, with its unit, up to its ``,`` or closer.
_ELEMENT = re.compile(rf"{_SKIP}({_SIMPLE})(?:{_SKIP}(<[^>]*>))?{_SKIP}[,)}}]", re.DOTALL)
_EMPTY = re.compile(rf"{_SKIP}[)}}]", re.DOTALL)
_NUMBER = re.compile(
    r"(?P<int>[+-]?\d+)|(?P<real>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)|(?P<sign>[+-]?)(?P<base>\d+)#(?P<digits>[0-9A-Fa-f]+)#"
)
_AGGREGATES = {"OBJECT": "END_OBJECT", "GROUP": "END_GROUP"}


class Quantity(NamedTuple):
    """A label value with its unit, as in ``3.75 <HZ>``."""

    value: Any
    units: str


class BasedInteger(int):
    """An integer written with a radix (``16#FF7FFFFB#``): for a float image, a bit pattern."""


class LabelSet(list[Any]):
    """An ODL set ``{a, b}``: a list that remembers it was written as a set."""


@dataclass
class Block:
    """One level of a label: the top, an ``OBJECT`` or a ``GROUP``.

    ``items`` keeps every statement in order, duplicates included (CRISM TRDR labels hold two
    ``OBJECT = FILE`` blocks). Nested blocks appear as values under their class name
    (``"OBJECT"`` or ``"GROUP"``); their ``name`` is the value written after ``OBJECT =``.
    """

    name: str = ""
    kind: str = ""
    items: list[tuple[str, Any]] = field(default_factory=list)
    #: The first value of each key, rebuilt when ``items`` grows (a parsed label is never edited in place).
    _first: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _indexed: int = field(default=0, init=False, repr=False, compare=False)

    def _index(self) -> dict[str, Any]:
        if self._indexed != len(self.items):
            self._first, self._indexed = dict(reversed(self.items)), len(self.items)
        return self._first

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return any(k == key for k, _ in self.items)
        return key in self._index()

    def get(self, key: str, default: Any = None) -> Any:
        """Return the first value of ``key`` (upper case) in this block, or ``default``."""
        if not isinstance(key, str):
            return next((v for k, v in self.items if k == key), default)
        return self._index().get(key, default)

    def blocks(self, name: str | None = None) -> Iterator[Block]:
        """Iterate over the nested blocks, optionally only those called ``name``."""
        for _, value in self.items:
            if isinstance(value, Block) and (name is None or value.name == name):
                yield value

    def walk(self) -> Iterator[Block]:
        """Iterate depth-first over this block and every block nested in it."""
        yield self
        for block in self.blocks():
            yield from block.walk()

    def keywords(self) -> Iterator[tuple[str, Any]]:
        """Iterate over the ``(key, value)`` pairs that are not nested blocks."""
        return ((k, v) for k, v in self.items if not isinstance(v, Block))


class Pointer(NamedTuple):
    """A resolved ``^OBJECT`` pointer: file name (or None: same file) and byte offset rule."""

    filename: str | None
    start: int
    in_bytes: bool

    def byte_offset(self, record_bytes: object) -> int:
        """The 0-based byte offset of the object, given the file's RECORD_BYTES."""
        if self.in_bytes or self.start == 1:
            return self.start - 1
        if isinstance(record_bytes, Quantity):
            if record_bytes.units.strip().upper() not in ("BYTE", "BYTES"):
                raise ValueError(f"RECORD_BYTES in <BYTES> (or no unit), not {record_bytes!r}")
            record_bytes = record_bytes.value
        if not isinstance(record_bytes, int) or record_bytes < 1:
            raise ValueError(f"a positive integer RECORD_BYTES for a pointer counted in records, not {record_bytes!r}")
        return (self.start - 1) * record_bytes


def parse_pointer(value: Any, label: str = "<label>", key: str = "^POINTER") -> Pointer:
    """Interpret the value of a ``^OBJECT`` keyword (every form of PDS3 Standards 5.3.3).

    Raises :class:`LabelValueError` (naming ``label`` and ``key``) for anything else.
    """
    try:
        return _parse_pointer(value)
    except ValueError as err:
        raise LabelValueError(label, key, value, f"a PDS3 pointer ({err})") from None


def _parse_pointer(value: Any) -> Pointer:
    if isinstance(value, list) and len(value) == 2:
        name, location = value
        start, in_bytes = _parse_location(location)
        return Pointer(str(name), start, in_bytes)
    if isinstance(value, (int, Quantity)):
        start, in_bytes = _parse_location(value)
        return Pointer(None, start, in_bytes)
    if isinstance(value, str):
        return Pointer(value, 1, False)
    raise ValueError(f"not a PDS3 pointer: {value!r}")


def _parse_location(location: Any) -> tuple[int, bool]:
    if isinstance(location, Quantity):
        if location.units.strip().upper() != "BYTES" or not isinstance(location.value, int):
            raise ValueError(f"pointer offsets are records or <BYTES>, not {location!r}")
        return _checked_start(location.value), True
    if isinstance(location, int):
        return _checked_start(location), False
    raise ValueError(f"pointer offset is not an integer: {location!r}")


def _checked_start(start: int) -> int:
    if not 1 <= start <= MAX_POINTER_START:
        raise ValueError(f"a start record or byte from 1 to {MAX_POINTER_START}, not {start}")
    return start


def plain(value: Any) -> Any:
    """Turn a label value into JSON-serialisable Python: quantities lose their units."""
    if isinstance(value, Quantity):
        return plain(value.value)
    if isinstance(value, BasedInteger):
        return int(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Block):
        return {k: plain(v) for k, v in value.keywords()}
    return value


class _Parser:
    """Statements ``KEY = value`` are matched whole (:data:`_STATEMENT`); anything else goes token by token."""

    def __init__(self, text: str, filename: str, fast: bool = True) -> None:
        self.text = text
        self.filename = filename
        self.pos = 0  # nothing after END is scanned
        self.peeked: tuple[int, tuple[str, str], int] = (-1, ("", ""), 0)
        self.depth = 0
        self.fast = fast

    def _scan(self) -> tuple[tuple[str, str], int]:
        m = _TOKEN.match(self.text, self.pos)
        assert m is not None  # every position matches: a token, an error character or the end
        kind = m.lastgroup or ""
        if kind == "error":
            start = m.start(kind)
            self.fail("label text", self.text[start : start + 20], "closed quotes, comments and units")
        return (kind, m.group(kind)), m.end()

    def fail(self, keyword: str, value: Any, expected: str) -> NoReturn:
        raise LabelSyntaxError(self.filename, keyword, value, expected)

    def next(self) -> tuple[str, str]:
        token = self.peek()
        self.pos = self.peeked[2]
        return token

    def peek(self) -> tuple[str, str]:
        if self.peeked[0] != self.pos:
            token, end = self._scan()
            self.peeked = (self.pos, token, end)
        return self.peeked[1]

    def parse_block(self, block: Block, closer: str | None) -> Block:
        while True:
            if self.fast:
                self.parse_statements(block, closer)
            kind, word = self.next()
            key = word.upper()
            if kind == "eof":
                if closer is not None:
                    self.fail(closer, "end of text", f"{closer} for {block.kind} {block.name}")
                return block
            if kind != "word":
                self.fail("keyword", word, "a keyword name")
            if key == "END" and closer is None:
                return block
            if key == closer:
                if self.peek() == ("punct", "="):
                    self.next()
                    self.next()
                return block
            equals = self.next()
            if equals != ("punct", "="):
                self.fail(key, equals[1] or "end of text", "'=' after the keyword")
            self.add_item(block, key, self.parse_value(key))

    def parse_statements(self, block: Block, closer: str | None) -> None:
        """Add the statements ``KEY = value [<unit>]`` from the position on, up to the first that is
        not one (or ends the block): the token path reads that one."""
        text, items, match, simple = self.text, block.items, _STATEMENT.match, self.parse_simple
        m = match(text, self.pos)
        while m is not None:
            key, value, unit = m.groups()
            key, first = key.upper(), value[0]
            if key == closer or (key == "END" and closer is None) or (first in "({" and self.depth >= MAX_DEPTH):
                return
            self.pos = m.end()
            value = simple(key, value) if first not in "({" else self.parse_list(key, first, m.span(2))
            if unit is not None:
                value = Quantity(value, unit.strip())
            if key in _AGGREGATES:
                self.add_item(block, key, value)
            else:
                items.append((key, value))
            m = match(text, self.pos)

    def parse_simple(self, key: str, text: str) -> Any:
        """The value of a quoted string, a symbol or a word."""
        first = text[0]
        if first == '"':
            return " ".join(text[1:-1].split())
        if first == "'":
            return text[1:-1]
        if first.isalpha():
            return text
        if text.isdecimal() and len(text) <= MAX_DIGITS:  # what _NUMBER's int matches
            return int(text)
        try:
            return _parse_word(text)
        except ValueError as err:
            self.fail(key, text[:40], f"a number, a based integer (radix 2 to 16) or a symbol ({err})")

    def parse_list(self, key: str, opener: str, span: tuple[int, int]) -> list[Any]:
        """The elements of the flat list :data:`_STATEMENT` matched over ``span`` (its opener to its closer)."""
        start, end = span[0] + 1, span[1]
        elements = [] if _EMPTY.match(self.text, start, end) else _ELEMENT.findall(self.text, start, end)
        values = [self.parse_simple(key, text) if not unit else Quantity(self.parse_simple(key, text), unit[1:-1].strip())
                  for text, unit in elements]
        return values if opener == "(" else LabelSet(values)

    def add_item(self, block: Block, key: str, value: Any) -> None:
        if key in _AGGREGATES:
            name = str(value).upper()
            with self.nested(key, name):
                value = self.parse_block(Block(name, key), _AGGREGATES[key])
        block.items.append((key, value))

    def parse_value(self, key: str) -> Any:
        kind, text = self.next()
        if kind == "punct" and text in "({":
            with self.nested(key, text):
                value: Any = self.parse_collection(key, ")" if text == "(" else "}")
            if text == "{":
                value = LabelSet(value)
        elif kind == "string":
            value = " ".join(text[1:-1].split())
        elif kind == "symbol":
            value = text[1:-1]
        elif kind == "word":
            value = self.parse_word(key, text)
        else:
            self.fail(key, text or "end of text", "a value")
        if self.peek()[0] == "unit":
            value = Quantity(value, self.next()[1][1:-1].strip())
        return value

    @contextmanager
    def nested(self, key: str, opener: str) -> Iterator[None]:
        """Count one level of nesting (a block or a collection) while it is parsed."""
        if self.depth >= MAX_DEPTH:
            self.fail(key, opener, f"blocks and lists nested at most {MAX_DEPTH} deep")
        self.depth += 1
        yield
        self.depth -= 1

    def parse_word(self, key: str, text: str) -> Any:
        try:
            return _parse_word(text)
        except ValueError as err:
            self.fail(key, text[:40], f"a number, a based integer (radix 2 to 16) or a symbol ({err})")

    def parse_collection(self, key: str, closer: str) -> list[Any]:
        values: list[Any] = []
        if self.peek() == ("punct", closer):
            self.next()
            return values
        while True:
            values.append(self.parse_value(key))
            kind, text = self.next()
            if (kind, text) == ("punct", closer):
                return values
            if (kind, text) != ("punct", ","):
                self.fail(key, text or "end of text", f"',' or '{closer}' in a list")


def _parse_word(word: str) -> Any:
    number = _NUMBER.fullmatch(word)
    if number is None:
        return word
    kind = number.lastgroup
    if kind == "int":
        return _parse_int(word, 10)
    if kind == "real":
        return float(word)
    return BasedInteger(_parse_int(number["sign"] + number["digits"], int(number["base"])))


def _parse_int(digits: str, base: int) -> int:
    if base not in RADIXES:
        raise ValueError(f"radix {base}")
    if len(digits) > MAX_DIGITS:
        raise ValueError(f"{len(digits)} digits, more than {MAX_DIGITS}")
    return int(digits, base)  # ValueError for a digit outside the radix


def parse_label(text: str, filename: str = "<label>", *, fast: bool = True) -> Block:
    """Parse PDS3 label text (up to ``END``) into a :class:`Block` (``fast=False``: token by token only).

    Raises :class:`~xarray_crism.errors.LabelSyntaxError` naming ``filename`` and the keyword
    where the text stops making sense.
    """
    if len(text) > MAX_LABEL_CHARS:
        raise LabelSyntaxError(filename, "label size", len(text), f"at most {MAX_LABEL_CHARS} characters")
    return _Parser(text, filename, fast).parse_block(Block(kind="LABEL"), None)
