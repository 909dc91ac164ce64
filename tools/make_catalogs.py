"""Write the shipped Intake catalogs (``catalogs/*.yaml``) of the public CRISM volumes and the Mastcam-Z bundle.

    python tools/make_catalogs.py [--out catalogs]

Each catalog has one entry per archive volume (a :class:`~xarray_crism.archive.intake_plugin.CrismVolume`
read by ``CrismVolumeReader``): ``cat["mrocr_2104"].read(observation_id=...)`` is the catalog of that
volume's products. URLs are templated on the user parameter ``root`` (default: the public archive), so
``cat(root="https://mirror.example/mro")`` or ``cat(root="s3://bucket/mro")`` reads a mirror with the
same layout below ``root``.

Volume lists, their URLs and the TRDR -> DDR pairing are the tables of :mod:`xarray_crism.archive.public`
(shared with ``xarray-crism download``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from intake.readers.entry import Catalog
from intake.readers.user_parameters import SimpleUserParameter

from xarray_crism.archive.intake_plugin import CrismVolume, CrismVolumeReader
from xarray_crism.archive.public import DDR, EDR, GEOSCIENCES, MRDR, MTRDR, PDS_IMAGING, TRDR, TRDR_TO_DDR


def volume_entry(url: str, description: str, **kwargs: Any) -> CrismVolumeReader:
    """A volume entry: its data (templated URL) and the reader that lists its products."""
    return CrismVolumeReader(data=CrismVolume(url), metadata={"description": description}, **kwargs)


def catalog(description: str, default_root: str, entries: dict[str, CrismVolumeReader]) -> Catalog:
    """A catalog of volume entries whose URLs use the ``root`` user parameter."""
    cat = Catalog(metadata={"description": description, "mirror": "cat(root='<mirror URL with the same layout>')"})
    cat.user_parameters["root"] = SimpleUserParameter(
        dtype=str, default=default_root, description="archive root: the public server, or a mirror with the same layout",
    )
    for name, reader in entries.items():
        cat.aliases[name] = cat.add_entry(reader)
    return cat


def build_catalogs() -> dict[str, Catalog]:
    """The shipped catalogs by file stem."""
    cdr = f"{{root}}/{EDR}/mrocr_0001/"
    trdr = {
        f"mrocr_{v}": volume_entry(
            f"{{root}}/{TRDR}/mrocr_{v}/", f"CRISM TRDR volume MROCR_{v}, joined to its DDR volume and the CDR tree",
            cdr_volume=cdr, **({"ddr_volume": f"{{root}}/{DDR}/mrocr_{d}/"} if d else {}),
        )
        for v, d in TRDR_TO_DDR.items()
    }
    ddr = {f"mrocr_{d}": volume_entry(f"{{root}}/{DDR}/mrocr_{d}/", f"CRISM DDR volume MROCR_{d}") for d in range(1001, 1011)}
    return {
        "crism_trdr": catalog("MRO CRISM targeted reduced data records (TRDR), by volume", GEOSCIENCES, trdr),
        "crism_ddr": catalog("MRO CRISM derived data records (DDR), by volume", GEOSCIENCES, ddr),
        "crism_mtrdr": catalog("MRO CRISM map-projected TRDRs (MTRDR) and their TER companions", GEOSCIENCES, {
            "mrocr_4001": volume_entry(f"{{root}}/{MTRDR}/mrocr_4001/", "CRISM MTRDR volume MROCR_4001"),
        }),
        "crism_mrdr": catalog("MRO CRISM multispectral map tiles (MRDR)", GEOSCIENCES, {
            "mrocr_3201": volume_entry(f"{{root}}/{MRDR}/mrocr_3201/", "CRISM MRDR volume MROCR_3201"),
        }),
        "mastcamz": catalog("Mars 2020 Mastcam-Z science-calibrated products (ASU; RAD and IOF)", PDS_IMAGING, {
            "sci_calibrated": volume_entry("{root}/mars2020_mastcamz_sci_calibrated/", "Mastcam-Z calibrated bundle"),
        }),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "catalogs")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for stem, cat in build_catalogs().items():
        cat.to_yaml_file(str(out / f"{stem}.yaml"))
        print(out / f"{stem}.yaml", len(cat), "entries")


if __name__ == "__main__":
    main()
