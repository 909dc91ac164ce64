"""PDS4 bundles (the Mastcam-Z calibrated archive): a data collection's inventory as an index.

The collection label (``data/collection*.xml``) names its inventory in ``File_Area_Inventory``: a
CSV of ``member status, LIDVID`` records. Each primary (``P``) member becomes a row with the columns
the catalog filters use: ``PRODUCT_ID`` (the LID's last field, upper case: the file stem),
``PRODUCT_TYPE`` (``RAD``/``IOF``), ``SENSOR_ID`` (camera eye ``L``/``R``), ``SOL``, ``FILTER``,
``SEQUENCE_ID`` (``ZCAM07114``: characters 36-44 of the file name, the label's ``SEQUENCE_ID``),
``LOGICAL_IDENTIFIER``, ``VERSION_ID`` and ``FILE_SPECIFICATION_NAME``; a product listed in several
versions keeps its highest.

PDS4 inventories list identifiers, not paths. The path follows the layout of the public ASU bundle
(``data/<sol, 4 digits>/<rad|iof>/<PRODUCT_ID>.IMG``, an IMG with its attached ODL label); this is a
documented convention of that archive, not a PDS4 rule, and the volume's case probe checks it on the
first members before any entry is built.
"""

from __future__ import annotations

import io
import posixpath
import re
from typing import TYPE_CHECKING

from ..errors import LabelValueError, SidecarNotFoundError
from ..io.paths import check_plain_name
from ..io.sources import Source, read_exists, read_text
from ..labels.pds4 import find_path, parse_pds4_label

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["build_inventory_frame", "find_collection_label", "read_collection_index"]

#: The file name (the calibrated archive's readme, "Filename Decoder"): eye, filter, sol, product type, and after
#: the venue, site and drive (9 characters) the 9-character sequence ID (``ZCAM07114``).
_NAME = re.compile(
    r"Z(?P<eye>[LR])(?P<filter>[0-9A-Z])_(?P<sol>\d{4})_\d{10}_\d{3}(?P<type>[A-Z]{3})(?:.{9}(?P<sequence>ZCAM\d{5}))?.*"
)
_COLLECTION = re.compile(r"COLLECTION.*\.XML")


def find_collection_label(directory: Source, listing: dict[str, str]) -> Source | None:
    """The collection label among a directory's files (upper-case name -> path), if any; of several
    (``collection_data.xml``, ``collection_data_v2.xml``) the last in name order, the newest by convention."""
    names = sorted(name for name in listing if _COLLECTION.fullmatch(name))
    return None if not names else Source(directory.fs, listing[names[-1]])


def read_collection_index(label: Source, data_dir: str) -> pd.DataFrame:
    """The collection's primary members as index rows (``data_dir``: the collection's path in the bundle)."""
    parsed = parse_pds4_label(read_text(label), label.url)
    name = find_path(parsed.index, "File_Area_Inventory/File/file_name")
    if not isinstance(name, str):
        raise LabelValueError(label.url, "File_Area_Inventory/File/file_name", name, "the name of the inventory file")
    inventory = label.sibling(check_plain_name(name, label.url, "File_Area_Inventory/File/file_name"))
    if not read_exists(inventory):
        raise SidecarNotFoundError(label.url, "file_name", name, f"the inventory file in {label.directory}")
    frame = build_inventory_frame(read_text(inventory), inventory.url, data_dir)
    frame.attrs.update({"label": label.url, "table_url": inventory.url})
    return frame


def build_inventory_frame(text: str, url: str, data_dir: str) -> pd.DataFrame:
    """Index rows from inventory CSV text (``P,urn:...:name::version`` records)."""
    import pandas as pd

    table = pd.read_csv(io.StringIO(text), header=None, names=["status", "lidvid"], dtype="string", skipinitialspace=True)
    primary = table[table["status"].str.strip().str.upper() == "P"]
    rows = [_row(str(lidvid).strip(), url, data_dir) for lidvid in primary["lidvid"]]
    columns = ["PRODUCT_ID", "PRODUCT_TYPE", "SENSOR_ID", "SOL", "FILTER", "SEQUENCE_ID", "LOGICAL_IDENTIFIER", "VERSION_ID",
               "FILE_SPECIFICATION_NAME"]
    frame = pd.DataFrame(rows, columns=columns).astype({c: "string" for c in columns if c != "SOL"})
    frame = frame.astype({"SOL": "Int64"})
    order = frame["VERSION_ID"].map(_version_key, na_action="ignore").fillna("").map(str)
    newest = frame.assign(_order=order).sort_values("_order", kind="stable").drop_duplicates("PRODUCT_ID", keep="last")
    return newest.drop(columns="_order").sort_index().reset_index(drop=True)


def _version_key(vid: str) -> str:
    """A sortable text for a PDS4 version ID (``1.10`` after ``1.9``)."""
    return ".".join(f"{int(p):06d}" if p.isdigit() else p for p in str(vid).split("."))


def _row(lidvid: str, url: str, data_dir: str) -> dict[str, object]:
    lid, _, vid = lidvid.partition("::")
    stem = lid.rsplit(":", 1)[-1].upper()
    m = _NAME.fullmatch(stem)
    if m is None:
        raise LabelValueError(url, "LIDVID", lidvid, "a Mastcam-Z calibrated product identifier (zl0_0709_..._rad_...)")
    path = posixpath.join(data_dir, m["sol"], m["type"].lower(), f"{stem}.IMG")
    return {
        "PRODUCT_ID": stem, "PRODUCT_TYPE": m["type"], "SENSOR_ID": m["eye"], "SOL": int(m["sol"]), "FILTER": m["filter"],
        "SEQUENCE_ID": m["sequence"], "LOGICAL_IDENTIFIER": lid, "VERSION_ID": vid or None, "FILE_SPECIFICATION_NAME": path,
    }
