"""The public archives' layout: which server and directory hold each volume, and which volumes go together.

Volume lists and their date coverage are those published by the PDS Geosciences Node (CRISM page) and
PDS Imaging (Mastcam-Z); a TRDR volume is paired with the DDR volume whose period holds it (TRDR volumes
after MROCR_2112 have no DDR volume listed in our sources). ``tools/make_catalogs.py`` writes the shipped
catalogs from these tables and ``xarray-crism download`` finds volumes by name with them. A mirror with the
same layout below its root is read by passing its root in place of the public one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import QueryError

__all__ = [
    "DDR", "EDR", "GEOSCIENCES", "MRDR", "MTRDR", "PDS_IMAGING", "TRDR", "TRDR_TO_DDR", "VolumeSet", "build_volume_set",
]

GEOSCIENCES = "https://pds-geosciences.wustl.edu/mro"
PDS_IMAGING = "https://planetarydata.jpl.nasa.gov/img/data/mars2020"
TRDR = "mro-m-crism-3-rdr-targeted-v1"
DDR = "mro-m-crism-6-ddr-v1"
EDR = "mro-m-crism-2-edr-v1"
MTRDR = "mro-m-crism-5-rdr-mptargeted-v1"
MRDR = "mro-m-crism-5-rdr-multispectral-v1"
MASTCAMZ = "mars2020_mastcamz_sci_calibrated"
#: TRDR volume -> the DDR volume covering the same dates (PDS Geosciences Node volume table).
TRDR_TO_DDR = {
    2101: 1001, 2102: 1001, 2103: 1002, 2104: 1002, 2105: 1003, 2106: 1004, 2107: 1005, 2108: 1006,
    2109: 1007, 2110: 1008, 2111: 1009, 2112: 1010, 2113: None, 2114: None, 2115: None, 2116: None,
}
#: Volumes of one kind besides the TRDRs: name -> (archive directory, default root).
_SINGLE = {
    **{f"mrocr_{d}": (DDR, GEOSCIENCES) for d in range(1001, 1011)},
    "mrocr_4001": (MTRDR, GEOSCIENCES), "mrocr_3201": (MRDR, GEOSCIENCES), "mrocr_0001": (EDR, GEOSCIENCES),
}
_MASTCAMZ_NAMES = ("mastcamz", "sci_calibrated", MASTCAMZ)


@dataclass(frozen=True)
class VolumeSet:
    """A volume's root URL and those of the DDR and CDR volumes that complete it (None when it has none)."""

    volume: str
    ddr_volume: str | None = None
    cdr_volume: str | None = None


def build_volume_set(name: str, root: str | None = None) -> VolumeSet:
    """The URLs of the public volume called ``name`` (``mrocr_2104``, ``mrocr_1002``, ``mastcamz``), below ``root``.

    ``root`` defaults to the public server of that archive; a mirror's root (same layout below it) replaces it.
    """
    key = name.strip().lower().rstrip("/")
    if key in _MASTCAMZ_NAMES:
        return VolumeSet(f"{(root or PDS_IMAGING).rstrip('/')}/{MASTCAMZ}/")
    base = (root or GEOSCIENCES).rstrip("/")
    number = int(key[6:]) if key.startswith("mrocr_") and key[6:].isdigit() else None
    if number in TRDR_TO_DDR:
        ddr = TRDR_TO_DDR[number]
        return VolumeSet(
            f"{base}/{TRDR}/{key}/", None if ddr is None else f"{base}/{DDR}/mrocr_{ddr}/", f"{base}/{EDR}/mrocr_0001/",
        )
    if key in _SINGLE:
        directory, default = _SINGLE[key]
        return VolumeSet(f"{(root or default).rstrip('/')}/{directory}/{key}/")
    raise QueryError(
        "public archive", "volume", name,
        "a public volume name (mrocr_2101 ... mrocr_2116 TRDR, mrocr_1001 ... mrocr_1010 DDR, mrocr_4001 MTRDR, "
        "mrocr_3201 MRDR, mrocr_0001 EDR/CDR, or mastcamz)",
        "Pass the volume's URL or path instead of a name for any other volume",
    )
