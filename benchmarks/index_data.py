"""A mission-size volume index (SIS Table 3-17) for ``bench_index.py``, generated column by column.

Every row is a different product, as in a real ``CUMINDEX``: four products per observation (I/F TRDRs
of the S and L sensors and their DDRs), observations every ~3 minutes from 2006-09-27 on, distinct
spacecraft clock counts, footprints (four corners and centre, 2% ``N/A``), temperatures and
distances; the few-valued columns (observation type, binning, wavelength files, ...) cycle through
realistic values. The records are laid out exactly as ``xarray_crism.testing.volume.write_index``
writes them (its label, its column offsets: a one-row index written by it is the template), with the
fields formatted by NumPy over whole columns instead of one Python call per field.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xarray_crism.archive.index import read_index_table
from xarray_crism.io.sources import open_source
from xarray_crism.testing.volume import write_index

QUOTED = ("CHARACTER", "TIME")
CLASSES = np.array(["FRT", "HRL", "HRS", "FRS", "ATO", "MSP", "HSP"])
EPOCH = np.datetime64("2006-09-27T00:00:00", "s")


def write_mission_index(label: Path, rows: int) -> Path:
    """Write ``label`` (and its ``.TAB``) with ``rows`` generated rows; returns the label."""
    label.parent.mkdir(parents=True, exist_ok=True)
    template = write_index(label, [{}], table_name=label.with_suffix(".TAB").name)
    table, columns, (_, row_bytes) = read_index_table(open_source(str(template), None))
    record = np.frombuffer(Path(table.path).read_bytes()[:row_bytes], dtype=np.uint8)
    values = build_values(rows)
    with open(table.path, "wb") as out:
        for start in range(0, rows, 100_000):
            part = np.tile(record, (min(100_000, rows - start), 1))
            for col in columns:
                text = values[col.name][start : start + len(part)]
                part[:, col.start : col.start + col.width] = _fixed(text, col.width, col.data_type in QUOTED)
            out.write(part.tobytes())
    text = label.read_bytes().replace(b"FILE_RECORDS = 1\r\n", b"FILE_RECORDS = %d\r\n" % rows)
    label.write_bytes(text.replace(b"  ROWS = 1\r\n", b"  ROWS = %d\r\n" % rows))
    return label


def _fixed(text: np.ndarray, width: int, left: bool) -> np.ndarray:
    """Texts as ``width``-byte cells: padded after (quoted text) or before (numbers)."""
    cells = np.strings.ljust(text, width) if left else np.strings.rjust(text, width)
    return np.frombuffer(cells.astype(f"S{width}").tobytes(), dtype=np.uint8).reshape(len(text), width)


def build_values(rows: int) -> dict[str, np.ndarray]:
    """Every column's text (``U`` arrays), ``N/A`` where a field is missing."""
    rng = np.random.default_rng(20)
    i = np.arange(rows)
    obs = i // 4
    sensor = np.where(i % 2 == 0, "S", "L")
    is_ddr = (i // 2) % 2 == 1
    cls = CLASSES[(obs * 7919) % len(CLASSES)]
    obs_id = np.char.mod("%08X", obs + 0x3E25)
    counter = np.char.mod("%02X", obs % 11)
    start = EPOCH + (obs * 173 + rng.integers(0, 20, rows)).astype("timedelta64[s]")
    stop = start + rng.integers(60, 300, rows).astype("timedelta64[s]")
    code = np.where(is_ddr, "DE", "IF") + np.char.mod("%03X", 0x156 + obs % 40) + sensor
    pid = cls + obs_id + "_" + counter + "_" + code + np.where(is_ddr, "_DDR1", "_TRR3")
    year, doy = _year_doy(start)
    kind = np.where(is_ddr, "DDR", "TRDR")
    spec = kind + "/" + year + "/" + year + "_" + doy + "/" + cls + obs_id + "/" + pid + ".IMG"
    values = {
        "VOLUME_ID": np.full(rows, "MROCR_2104"), "PRODUCT_ID": pid, "PRODUCT_TYPE": kind,
        "FILE_SPECIFICATION_NAME": spec, "PRODUCT_CREATION_TIME": _iso(stop + np.timedelta64(86400 * 30, "s")),
        "PARTICIPATING_INSTRUMENTS": np.full(rows, "CRISM"), "SPACECRAFT_CLOCK_START_COUNT": _clock(start, rng),
        "SPACECRAFT_CLOCK_STOP_COUNT": _clock(stop, rng), "ORBIT_NUMBER": np.char.mod("%d", obs // 36 + 1000),
        "START_TIME": _iso(start), "STOP_TIME": _iso(stop), "OBSERVATION_TYPE": cls, "OBSERVATION_ID": obs_id,
        "MRO:OBSERVATION_NUMBER": np.char.mod("%d", obs % 11), "MRO:ACTIVITY_ID": code[:].astype("U5"),
        "MRO:SENSOR_ID": sensor, "PRODUCT_VERSION_ID": np.where(is_ddr, "1", "3"),
    }
    values.update(_footprints(rows, rng))
    values.update(_instrument(rows, rng, sensor))
    return values


def _footprints(rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    lat, lon = rng.uniform(-85, 85, rows), rng.uniform(0, 360, rows)
    half = rng.uniform(0.02, 0.1, rows)
    missing = rng.random(rows) < 0.02
    out = {}
    for corner, dlat, dlon in (("LOWER_RIGHT", -1, 1), ("LOWER_LEFT", -1, -1), ("UPPER_RIGHT", 1, 1),
                               ("UPPER_LEFT", 1, -1), ("CENTER", 0, 0)):
        out[f"{corner}_LATITUDE"] = _reals(lat + dlat * half, "%.3f", missing)
        out[f"{corner}_LONGITUDE"] = _reals((lon + dlon * half) % 360.0, "%.3f", missing)
    out["MAXIMUM_LATITUDE"], out["MINIMUM_LATITUDE"] = _reals(lat + half, "%.3f", missing), _reals(lat - half, "%.3f", missing)
    out["WESTERNMOST_LONGITUDE"] = _reals((lon - half) % 360.0, "%.3f", missing)
    out["EASTERNMOST_LONGITUDE"] = _reals((lon + half) % 360.0, "%.3f", missing)
    return out


def _instrument(rows: int, rng: np.random.Generator, sensor: np.ndarray) -> dict[str, np.ndarray]:
    none = np.zeros(rows, dtype=bool)
    width = np.array(["1", "2", "5", "10"])[rng.integers(0, 4, rows)]
    ir = sensor == "L"
    return {
        "TARGET_CENTER_DISTANCE": _reals(rng.uniform(3650, 3720, rows), "%.3f", none),
        "SOLAR_DISTANCE": _reals(rng.uniform(2.06e8, 2.49e8, rows), "%.3f", none),
        "SHUTTER_MODE_ID": np.full(rows, "OPEN"), "LIGHT_SOURCE_NAME": np.full(rows, "NONE"),
        "CALIBRATION_LAMP_STATUS": np.full(rows, "OFF"), "CALIBRATION_LAMP_LEVEL": np.full(rows, "0"),
        "PIXEL_AVERAGING_WIDTH": width, "INSTRUMENT_POINTING_MODE": np.full(rows, "DYNAMIC POINTING"),
        "SCAN_MODE_ID": np.full(rows, "SHORT"), "MRO:FRAME_RATE": np.array(["3.750", "15.00", "30.00"])[rng.integers(0, 3, rows)],
        "MRO:EXPOSURE_PARAMETER": np.char.mod("%d", rng.integers(40, 480, rows)), "SAMPLING_MODE_ID": np.full(rows, "HYPERSPEC"),
        "COMPRESSION_TYPE": np.full(rows, "NONE"), "MRO:WAVELENGTH_FILTER": np.full(rows, "0"),
        "MRO:WAVELENGTH_FILE_NAME": np.where(ir, "CDR450924300802_WA0300000L_3.IMG", "CDR450924300802_WA0300000S_2.IMG"),
        "MRO:PIXEL_PROC_FILE_NAME": np.full(rows, "N/A"), "MRO:LOOKUP_TABLE_FILE_NAME": np.full(rows, "N/A"),
        "MRO:DETECTOR_TEMPERATURE": _reals(
            np.where(ir, rng.uniform(-170, -150, rows), rng.uniform(-60, -40, rows)), "%.3f", none),
        "MRO:OPTICAL_BENCH_TEMPERATURE": _reals(rng.uniform(-80, -70, rows), "%.3f", none),
        "MRO:SPECTROMETER_HOUSING_TEMP": _reals(rng.uniform(-90, -80, rows), "%.3f", none),
        "MRO:SPHERE_TEMPERATURE": _reals(rng.uniform(-40, 0, rows), "%.3f", none),
        "MRO:FPE_TEMPERATURE": _reals(rng.uniform(0, 30, rows), "%.3f", none),
        "LINES": np.char.mod("%d", rng.integers(15, 1000, rows)), "LINE_SAMPLES": np.where(width == "1", "640", "320"),
        "BANDS": np.where(ir, "438", "107"), "MAP_RESOLUTION": np.full(rows, "N/A"),
    }


def _reals(values: np.ndarray, fmt: str, missing: np.ndarray) -> np.ndarray:
    return np.where(missing, "N/A", np.char.mod(fmt, values))


def _iso(times: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(times, unit="s")


def _year_doy(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    years = times.astype("datetime64[Y]")
    doy = (times.astype("datetime64[D]") - years.astype("datetime64[D]")).astype(np.int64) + 1
    return years.astype(str), np.char.mod("%03d", doy)


def _clock(times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ticks = (times - EPOCH).astype(np.int64) + 844_000_000
    return "9/" + np.char.mod("%010d", ticks) + "." + np.char.mod("%05d", rng.integers(0, 65536, len(times)))

