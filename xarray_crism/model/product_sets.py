"""The products that belong together: an observation's TRDRs and DDR, a TER/MTRDR set, a map tile.

``find_product_set`` names, for a product, the labels (and WV table) of its set, found beside
it and in ``sidecar_dirs``, the highest version of each. Which names belong to a set is a table
keyed by product family (:data:`SET_MEMBERS`): group name -> file-name pattern, with the
product's own name fields filled in. Nothing here reads more than directory listings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..formats.products import ProductId
from ..io.sources import SidecarFinder, Source

__all__ = ["SET_MEMBERS", "ProductSet", "find_product_set"]

_TRDR = {
    code: rf"{{stem}}_{code}[0-9A-F]{{{{3}}}}{{sensor}}_TRR(?P<v>[0-9A-Z])\.LBL" for code in ("IF", "RA", "AL", "SU")
} | {"DE": r"{stem}_DE[0-9A-F]{{3}}{sensor}_DDR(?P<v>[0-9A-Z])\.LBL"}
_TARGETED = {
    code: rf"{{stem}}_{code}[0-9A-F]{{{{3}}}}J_{{filetype}}(?P<v>[0-9A-Z])\.LBL" for code in ("IF", "SU", "SR", "IN", "RE", "DE")
} | {"WV": r"{stem}_WV[0-9A-F]{{3}}J_{filetype}(?P<v>[0-9A-Z])\.TAB"}
_TILE = {
    code: rf"T{{tile:04d}}_{{filetype}}{code}_{{place}}_(?P<v>[0-9A-Z])\.LBL" for code in ("IF", "AL", "SU", "DE", "DL")
} | {"WV": r"T{tile:04d}_{filetype}WV_{place}_(?P<v>[0-9A-Z])\.TAB"}

#: family -> {group: file name pattern (upper case) with {stem}, {sensor}, {filetype}, {tile}, {place}}.
SET_MEMBERS: dict[str, dict[str, str]] = {
    "TRDR": _TRDR, "DDR": _TRDR, "TER": _TARGETED, "MTRDR": _TARGETED, "MRDR": _TILE, "VRDR": _TILE,
}
_FILETYPES = {"TER": "TER", "MTRDR": "MTR", "MRDR": "MRR", "VRDR": "VRR"}


@dataclass
class ProductSet:
    """Labels (``members``) and WV tables (``tables``) of one set, by group name (SIS codes)."""

    name: str
    members: dict[str, Source] = field(default_factory=dict)
    tables: dict[str, Source] = field(default_factory=dict)


def find_product_set(pid: ProductId, finder: SidecarFinder) -> ProductSet:
    """The set ``pid`` belongs to; a product of a family without sets is a set of one."""
    patterns = SET_MEMBERS.get(pid.family)
    if patterns is None:
        return ProductSet(pid.product_id, {pid.code: finder.product})
    fields = _name_fields(pid)
    found = ProductSet(_set_name(pid))
    for group, template in patterns.items():
        pattern = re.compile(template.format(**fields))
        candidates = finder.matching(pattern)
        if not candidates:
            continue
        best = max(candidates, key=lambda s: int(pattern.fullmatch(s.name.upper())["v"], 36))  # type: ignore[index]
        (found.tables if best.name.upper().endswith(".TAB") else found.members)[group] = best
    return found


def _name_fields(pid: ProductId) -> dict[str, object]:
    text = pid.product_id
    place = text.split("_", 2)[2].rsplit("_", 1)[0] if pid.tile is not None else ""
    return {
        "stem": f"{pid.class_type}{pid.observation_id}_{pid.counter}", "sensor": pid.sensor or "",
        "filetype": _FILETYPES.get(pid.family, ""), "tile": pid.tile or 0, "place": place,
    }


def _set_name(pid: ProductId) -> str:
    if pid.tile is not None:
        return pid.product_id.split("_", 1)[0] + "_" + pid.product_id.split("_", 2)[2].rsplit("_", 1)[0]
    return f"{pid.class_type}{pid.observation_id}_{pid.counter}"
