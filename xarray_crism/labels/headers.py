"""Labels at the start of a file: detached PDS3 labels, attached ODL headers, VICAR headers, XML.

``read_label_text`` reads only the label of a file, whatever kind it is: a detached ``.LBL``
(the whole file), a PDS4 ``.xml`` (the whole file), or the attached ODL header of an ``.IMG``
(Mastcam-Z: ``LABEL_RECORDS`` records of ``RECORD_BYTES``, NUL padded, ending at ``END``), so
opening an IMG never reads its data. ``parse_vicar_label`` reads the VICAR header that follows a
Mastcam-Z ODL header (``LBLSIZE=16480 FORMAT='HALF' ... NL=1200``) into a dict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import LabelSyntaxError, LabelValueError, TruncatedFileError
from ..io.sources import MAX_LABEL_BYTES, Source, read_head, read_ranges

__all__ = [
    "HEAD_BYTES", "SNIFF_BYTES", "LabelText", "build_vicar_image_keywords", "parse_vicar_label", "read_label_text",
    "read_vicar_label",
]

#: Files up to this size are read whole at once (detached labels).
HEAD_BYTES = 64 * 1024
#: Bytes read first from a bigger file, to find where its label ends.
SNIFF_BYTES = 4 * 1024

_END = re.compile(rb"(?m)^[ \t]*END[ \t]*\r?(?:\n|\Z)")
_BOM = b"\xef\xbb\xbf"
_LABEL_AREA = (re.compile(rb"(?m)^\s*RECORD_BYTES\s*=\s*(\d+)"), re.compile(rb"(?m)^\s*LABEL_RECORDS\s*=\s*(\d+)"))
_ODL_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:/\*[^\n]*\*/\s*)*\^?[A-Za-z][A-Za-z0-9_:]*\s*=")
_VICAR_ITEM = re.compile(r"\s*([A-Z0-9_]+)=('(?:[^']|'')*'|\([^)]*\)|[^\s]+)")


@dataclass(frozen=True)
class LabelText:
    """The text of a label and how it sits in its file.

    ``kind`` is ``"xml"`` (PDS4) or ``"odl"`` (PDS3: a detached label, or an attached header
    cut after its ``END`` line).
    """

    text: str
    kind: str


def read_label_text(source: Source) -> LabelText:
    """Read the label of ``source`` (never its data): at most :data:`MAX_LABEL_BYTES`.

    A file of up to :data:`HEAD_BYTES` is read whole, in one request. A bigger one is sniffed
    (:data:`SNIFF_BYTES`; over HTTP its first :data:`HEAD_BYTES`, in that same one request), then
    exactly its label records are read when ``RECORD_BYTES`` and ``LABEL_RECORDS`` say where the
    label ends, or doubling chunks until ``END``.
    """
    data, size = read_head(source, HEAD_BYTES, SNIFF_BYTES)  # over HTTP: one GET, no size request
    if data.removeprefix(_BOM).lstrip()[:1] == b"<":
        return LabelText(_decode_xml(_read_whole(source, size, data), source.url), "xml")
    if not _ODL_START.match(data):
        raise LabelSyntaxError(source.url, "label", data[:16], "a PDS3 label (KEYWORD = value ...) or a PDS4 XML label")
    end = _find_end(data, size)
    if end is None and size > len(data):
        data = _read_label_area(source, size, data)
        end = _find_end(data, size)
    if end is not None and (size > len(data) or data[end:].strip(b" \t\r\n\0")):
        data = data[:end]  # an attached header: what follows is not label
    return LabelText(_decode(data), "odl")


def _find_end(data: bytes, size: int) -> int | None:
    """Where the ``END`` line ends; a match at the end of a partial read is not trusted (``END_OBJECT`` cut short).

    Only the lines holding ``END`` are matched (a scan for the bytes is much faster than the pattern's)."""
    hit = data.find(b"END")
    while hit >= 0:
        line = data.rfind(b"\n", 0, hit) + 1
        match = _END.match(data, line)
        if match is not None and (match.group().endswith(b"\n") or len(data) >= size):
            return match.end()
        hit = data.find(b"END", max(hit + 3, match.end() if match is not None else 0))
    return None


def _read_whole(source: Source, size: int, head: bytes) -> bytes:
    if size > MAX_LABEL_BYTES:
        raise TruncatedFileError(source.url, "label size", size, f"at most {MAX_LABEL_BYTES} bytes")
    return head + _read_more(source, len(head), size)


def _read_label_area(source: Source, size: int, head: bytes) -> bytes:
    """The label of a file bigger than its head whose END is not in the head."""
    record_bytes, label_records = (m.search(head) for m in _LABEL_AREA)
    if record_bytes and label_records:
        extent = int(record_bytes[1]) * int(label_records[1])
        if extent > MAX_LABEL_BYTES:
            raise TruncatedFileError(source.url, "LABEL_RECORDS x RECORD_BYTES", extent, f"at most {MAX_LABEL_BYTES} bytes")
        if extent > size:
            raise TruncatedFileError(source.url, "file size", size, f"at least the {extent} bytes of its label records")
        return head + _read_more(source, len(head), extent)
    data = head
    while _find_end(data, size) is None and len(data) < min(size, MAX_LABEL_BYTES):
        data += _read_more(source, len(data), min(size, MAX_LABEL_BYTES, 2 * len(data)))
    if _find_end(data, size) is None and size > MAX_LABEL_BYTES:
        raise TruncatedFileError(source.url, "END", None, f"the label's END within its first {MAX_LABEL_BYTES} bytes")
    return data


def _read_more(source: Source, start: int, stop: int) -> bytes:
    if stop <= start:
        return b""
    (rest,) = read_ranges(source, [(start, stop)])
    return rest.tobytes()


def _decode(data: bytes) -> str:
    """Latin-1 (no byte fails), NUL padding dropped."""
    return data.decode("latin-1").replace("\0", "")


def _decode_xml(data: bytes, url: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LabelSyntaxError(url, "encoding", f"byte {err.start}", "UTF-8 text (PDS4 labels are UTF-8)") from None


def parse_vicar_label(text: str, filename: str) -> dict[str, object]:
    """The system items of a VICAR label (up to the first ``PROPERTY``/``TASK``), typed.

    Integers and reals become numbers, quoted strings lose their quotes; ``LBLSIZE`` must come
    first, as the VICAR format requires.
    """
    if not text.startswith("LBLSIZE="):
        raise LabelSyntaxError(filename, "LBLSIZE", text[:20], "a VICAR label starting with LBLSIZE=")
    items: dict[str, object] = {}
    for match in _VICAR_ITEM.finditer(text.rstrip("\0 ")):
        key, value = match[1], match[2]
        if key in ("PROPERTY", "TASK"):
            break
        items[key] = _vicar_value(value)
    return items


def _vicar_value(value: str) -> object:
    if value.startswith("'"):
        return value[1:-1].replace("''", "'")
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            continue
    return value


def read_vicar_label(source: Source, offset: int, nbytes: object) -> dict[str, object]:
    """Read and parse the VICAR label at ``offset`` (``nbytes`` long, from the ODL header)."""
    if not isinstance(nbytes, int) or isinstance(nbytes, bool) or not 0 < nbytes <= MAX_LABEL_BYTES:
        raise LabelValueError(source.url, "IMAGE_HEADER BYTES", nbytes, f"an integer from 1 to {MAX_LABEL_BYTES}")
    (data,) = read_ranges(source, [(offset, offset + nbytes)])
    return parse_vicar_label(_decode(data.tobytes()), source.url)


#: VICAR system items -> the PDS3 IMAGE keywords they stand for.
_VICAR_ORG = {"BSQ": "BAND_SEQUENTIAL", "BIL": "LINE_INTERLEAVED", "BIP": "SAMPLE_INTERLEAVED"}
_VICAR_FORMAT = {
    "BYTE": ("UNSIGNED_INTEGER", 8), "HALF": ("INTEGER", 16), "FULL": ("INTEGER", 32), "REAL": ("REAL", 32), "DOUB": ("REAL", 64),
}
_VICAR_ORDER = {("INTEGER", "HIGH"): "MSB_INTEGER", ("INTEGER", "LOW"): "LSB_INTEGER",
                ("REAL", "IEEE"): "IEEE_REAL", ("REAL", "RIEEE"): "PC_REAL"}


def build_vicar_image_keywords(vicar: dict[str, object]) -> dict[str, object]:
    """PDS3 IMAGE keywords (LINES, LINE_SAMPLES, BANDS, BAND_STORAGE_TYPE, SAMPLE_TYPE/BITS) from VICAR items."""
    out: dict[str, object] = {}
    for pds3, key in (("LINES", "NL"), ("LINE_SAMPLES", "NS"), ("BANDS", "NB")):
        if isinstance(vicar.get(key), int):
            out[pds3] = vicar[key]
    if str(vicar.get("ORG")) in _VICAR_ORG:
        out["BAND_STORAGE_TYPE"] = _VICAR_ORG[str(vicar["ORG"])]
    fmt = _VICAR_FORMAT.get(str(vicar.get("FORMAT")))
    if fmt is not None:
        kind, bits = fmt
        if kind == "UNSIGNED_INTEGER":
            out["SAMPLE_TYPE"], out["SAMPLE_BITS"] = "MSB_UNSIGNED_INTEGER", bits
        else:
            order = vicar.get("INTFMT" if kind == "INTEGER" else "REALFMT")
            if (kind, order) in _VICAR_ORDER:
                out["SAMPLE_TYPE"], out["SAMPLE_BITS"] = _VICAR_ORDER[(kind, str(order))], bits
    return out
