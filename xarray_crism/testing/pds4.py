"""Writers of Mastcam-Z products and PDS4 labels, for tests and benchmarks.

- :func:`write_mastcamz_img` keeps the attached ODL header of a *real* Mastcam-Z IMG (every
  group, the camera model, the quirks: CRLF, values on the next line, units in sets), rewrites
  the keywords that describe the file (records, pointers, PRODUCT_ID, the IMAGE object), then
  writes a VICAR header and the image, as ASU's products are laid out.
- :func:`write_pds4_label` writes a PDS4 ``Product_Observational`` label for an array at an
  offset of a file, following the PDS4 standard (``Array_3D_Image``/``Array_3D_Spectrum``,
  ``Element_Array``, ``Axis_Array``, ``Special_Constants``), with Mastcam-Z ``img:`` filter
  classes when asked.
- :func:`write_img_for_pds4` writes the IMG that a real PDS4 label describes (the ops labels
  of the corpus come without their IMGs), reading the label with the standard library.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["PDS4_TYPES", "write_img_for_pds4", "write_mastcamz_img", "write_pds4_label"]

#: PDS4 data_type -> numpy dtype string.
PDS4_TYPES = {
    "SignedMSB2": ">i2", "SignedLSB2": "<i2", "UnsignedMSB2": ">u2", "IEEE754MSBSingle": ">f4",
    "IEEE754LSBSingle": "<f4", "IEEE754MSBDouble": ">f8", "UnsignedByte": "u1", "SignedMSB4": ">i4",
}
_PDS3_TYPES = {">i2": ("MSB_INTEGER", 16), ">f4": ("IEEE_REAL", 32), ">u2": ("MSB_UNSIGNED_INTEGER", 16)}
_VICAR_FORMATS = {">i2": "HALF", ">f4": "REAL", ">u2": "HALF"}


def write_mastcamz_img(
    path: str | Path,
    template_img: str | Path,
    data: np.ndarray,
    *,
    product_id: str,
    scaling: tuple[float, float] | None = None,
    replace: dict[str, str] | None = None,
) -> Path:
    """Write ``data`` (band, line, sample; ``>i2`` or ``>f4``) as a Mastcam-Z IMG with a real header.

    ``scaling`` is ``(SCALING_FACTOR, OFFSET)`` (None writes neither); ``replace`` maps other
    header keywords to new value text (``{"BAYER_METHOD": "RAW_BAYER"}``).
    """
    bands, lines, samples = data.shape
    dtype = data.dtype.str
    record_bytes = samples * data.dtype.itemsize
    header = _template_header(template_img)
    image = _image_object(dtype, data.shape, scaling)
    header = re.sub(r"(?ms)^OBJECT\s*=\s*IMAGE\s*$.*?^END_OBJECT\s*=\s*IMAGE\s*$", image, header)
    header = re.sub(r'(?m)^(\s*PRODUCT_ID\s*=\s*)"[^"]*"', rf'\g<1>"{product_id}"', header)
    header = re.sub(r'(?m)^(PRODUCT_ID\s*=\s*)\r?\n"[^"]*"', rf'\g<1>\r\n"{product_id}"', header)
    for keyword, text in (replace or {}).items():
        header = re.sub(rf"(?m)^(\s*{keyword}\s*=\s*)[^\r\n]*", _replacement(text), header)
    vicar = _vicar_label(dtype, data.shape, record_bytes)
    label_records = math.ceil((len(header) + 200) / record_bytes)
    vicar_records = len(vicar) // record_bytes
    for keyword, value in (
        ("RECORD_BYTES", record_bytes), ("LABEL_RECORDS", label_records),
        ("FILE_RECORDS", label_records + vicar_records + bands * lines),
        (r"\^IMAGE_HEADER", label_records + 1), (r"\^IMAGE", label_records + vicar_records + 1),
        ("BYTES", len(vicar)),
    ):
        header = re.sub(rf"(?m)^(\s*{keyword}\s*=\s*)\d+", rf"\g<1>{value}", header, count=1)
    head = header.encode("latin-1")
    head += b" " * (label_records * record_bytes - len(head))
    out = Path(path)
    out.write_bytes(head + vicar + np.ascontiguousarray(data).tobytes())
    return out


def _replacement(text: str) -> Callable[[re.Match[str]], str]:
    return lambda m: m[1] + text


def _template_header(template_img: str | Path) -> str:
    raw = Path(template_img).read_bytes()[:200_000].decode("latin-1")
    end = re.search(r"(?m)^END\r?$", raw)
    if end is None:
        raise ValueError(f"{template_img}: no END line in its first 200,000 bytes")
    return raw[: end.end()].replace("\0", "") + "\n"


def _image_object(dtype: str, shape: tuple[int, ...], scaling: tuple[float, float] | None) -> str:
    sample_type, bits = _PDS3_TYPES[dtype]
    bands, lines, samples = shape
    rows = [
        ("INTERCHANGE_FORMAT", "BINARY"), ("LINES", lines), ("LINE_SAMPLES", samples),
        ("SAMPLE_TYPE", sample_type), ("SAMPLE_BITS", bits), ("BANDS", bands),
        ("BAND_STORAGE_TYPE", "BAND_SEQUENTIAL"), ("FIRST_LINE", 1), ("FIRST_LINE_SAMPLE", 1),
        ("INVALID_CONSTANT", "0.0"), ("MISSING_CONSTANT", "0.0"), ("SAMPLE_BIT_MASK", "2#0000111111111111#"),
    ]
    if scaling is not None:
        rows += [("SCALING_FACTOR", repr(scaling[0])), ("OFFSET", repr(scaling[1]))]
    body = "".join(f"  {k:<32}= {v}\r\n" for k, v in rows)
    return f"OBJECT                            = IMAGE\r\n{body}END_OBJECT                        = IMAGE"


def _vicar_label(dtype: str, shape: tuple[int, ...], record_bytes: int) -> bytes:
    bands, lines, samples = shape
    items = (
        f"FORMAT='{_VICAR_FORMATS[dtype]}'  TYPE='IMAGE'  BUFSIZ={record_bytes}  DIM=3  EOL=0  RECSIZE={record_bytes}  "
        f"ORG='BSQ'  NL={lines}  NS={samples}  NB={bands}  N1={samples}  N2={lines}  N3={bands}  N4=0  NBB=0  NLB=0  "
        "HOST='JAVA'  INTFMT='HIGH'  REALFMT='IEEE'  PROPERTY='IDENTIFICATION'  "
    )
    size = math.ceil((len(items) + 20) / record_bytes) * record_bytes
    text = f"LBLSIZE={size:<10}  {items}"
    return text.encode("ascii") + b"\0" * (size - len(text))


def write_pds4_label(
    path: str | Path,
    file_name: str,
    *,
    offset: int,
    data_type: str,
    axes: list[tuple[str, int]],
    array_class: str = "Array_3D_Image",
    scaling: tuple[float, float] | None = None,
    constants: dict[str, str] | None = None,
    filters: list[tuple[str, int, float]] | None = None,
    headers: tuple[tuple[str, int, int, str], ...] | list[tuple[str, int, int, str]] = (),
    lid: str = "urn:nasa:pds:xarray_crism_test:data:product",
) -> Path:
    """Write a PDS4 label for one array of ``file_name``; ``axes`` slowest first.

    ``filters`` adds Mastcam-Z ``img:Optical_Filter`` classes ``(name, number, centre nm)``,
    one per band; ``headers`` adds ``Header`` classes ``(id, offset, length, parsing standard)``.
    """
    optical = "".join(
        f"<img:Optical_Filter><img:filter_name>{n}</img:filter_name><img:filter_number>{k}</img:filter_number>"
        f'<img:center_filter_wavelength unit="nm">{w}</img:center_filter_wavelength>'
        f"<img:array_band_number>{i}</img:array_band_number></img:Optical_Filter>"
        for i, (n, k, w) in enumerate(filters or [], 1)
    )
    element = f"<data_type>{data_type}</data_type>"
    if scaling is not None:
        element += f"<scaling_factor>{scaling[0]!r}</scaling_factor><value_offset>{scaling[1]!r}</value_offset>"
    axis_xml = "".join(
        f"<Axis_Array><axis_name>{name}</axis_name><elements>{n}</elements><sequence_number>{i}</sequence_number></Axis_Array>"
        for i, (name, n) in enumerate(axes, 1)
    )
    special = "".join(f"<{k}>{v}</{k}>" for k, v in (constants or {}).items())
    special = f"<Special_Constants>{special}</Special_Constants>" if special else ""
    header_xml = "".join(
        f"<Header><local_identifier>{i}</local_identifier><offset unit=\"byte\">{o}</offset>"
        f"<object_length unit=\"byte\">{n}</object_length><parsing_standard_id>{p}</parsing_standard_id></Header>"
        for i, o, n, p in headers
    )
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<Product_Observational xmlns="http://pds.nasa.gov/pds4/pds/v1" xmlns:img="http://pds.nasa.gov/pds4/img/v1">
  <Identification_Area>
    <logical_identifier>{lid}</logical_identifier>
    <version_id>1.0</version_id>
    <title>{Path(path).stem}</title>
    <information_model_version>1.16.0.0</information_model_version>
    <product_class>Product_Observational</product_class>
  </Identification_Area>
  <Observation_Area>
    <Time_Coordinates><start_date_time>2023-02-19T05:12:18.707Z</start_date_time><stop_date_time>2023-02-19T05:12:18.707Z</stop_date_time></Time_Coordinates>
    <Discipline_Area><img:Imaging>{optical}</img:Imaging></Discipline_Area>
  </Observation_Area>
  <File_Area_Observational>
    <File><file_name>{file_name}</file_name></File>
    {header_xml}
    <{array_class}>
      <local_identifier>image</local_identifier>
      <offset unit="byte">{offset}</offset>
      <axes>{len(axes)}</axes>
      <axis_index_order>Last Index Fastest</axis_index_order>
      <Element_Array>{element}</Element_Array>
      {axis_xml}
      {special}
    </{array_class}>
  </File_Area_Observational>
</Product_Observational>
"""
    out = Path(path)
    out.write_text(text, encoding="utf-8")
    return out


def write_img_for_pds4(label: str | Path, directory: str | Path, seed: int = 0) -> tuple[Path, np.ndarray]:
    """Write the IMG a real PDS4 label describes (random DN of its type; header bytes blank).

    Returns the IMG path and the array as written, in storage order.
    """
    ns = {"pds": "http://pds.nasa.gov/pds4/pds/v1"}
    root = ET.parse(label).getroot()
    area = root.find("pds:File_Area_Observational", ns)
    assert area is not None
    name = area.findtext("pds:File/pds:file_name", namespaces=ns)
    array = next(e for e in area if e.tag.split("}")[1].startswith("Array"))
    offset = int(array.findtext("pds:offset", namespaces=ns) or 0)
    dtype = np.dtype(PDS4_TYPES[array.findtext("pds:Element_Array/pds:data_type", namespaces=ns) or ""])
    axes = sorted(array.findall("pds:Axis_Array", ns), key=lambda a: int(a.findtext("pds:sequence_number", namespaces=ns) or 0))
    shape = tuple(int(a.findtext("pds:elements", namespaces=ns) or 0) for a in axes)
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 4096, size=shape).astype(dtype)
    out = Path(directory) / str(name)
    out.write_bytes(b" " * offset + data.tobytes())
    return out, data
