"""Index filters over 10^6 rows: each distinct value compared once, per-row work only on the rows still kept.

An index column of text (``PRODUCT_TYPE``, ``MRO:SENSOR_ID``, ``VOLUME_ID``) holds few distinct
values: :func:`find_normalised_in` strips and upper-cases each distinct value once (``pandas.factorize``)
and spreads the answer to the rows. Filters that need per-row work (a product code read from the
``PRODUCT_ID``, shell patterns) look only at the rows that the filters before them kept. Each gives
what ``column.str.strip().str.upper().isin(values)`` and the like give, row by row.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["find_normalised_in", "find_observations", "find_pattern_matches", "find_product_codes", "normalised_values"]

_PRODUCT_CODE = re.compile(r"^[A-Z]{3}[0-9A-F]{8}_[0-9A-F]{2}_([A-Z]{2})")


def normalised_values(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(codes, values)``: the column's distinct values stripped and upper case, and each row's code
    (-1 for a missing value), so that ``values[codes]`` is ``column.str.strip().str.upper()``."""
    import pandas as pd

    codes, distinct = pd.factorize(column)
    return np.asarray(codes), pd.Series(distinct, dtype="string").str.strip().str.upper()


def find_normalised_in(column: pd.Series, values: Sequence[str]) -> np.ndarray:
    """Which rows hold one of ``values`` once stripped and upper case (missing: no)."""
    codes, distinct = normalised_values(column)
    return _by_code(distinct.isin(values), codes)


def find_observations(obs: pd.Series, kind: pd.Series | None, ids: Sequence[str]) -> np.ndarray:
    """Rows whose ``OBSERVATION_ID`` is one of ``ids``, or whose class type followed by it is.

    Class type + ID can only equal an id that ends with the row's ID: those rows alone are joined.
    """
    codes, distinct = normalised_values(obs)
    suffixes = {v[i:] for v in ids for i in range(len(v) + 1)}
    exact = _by_code(distinct.isin(ids), codes)
    maybe = np.flatnonzero(_by_code(distinct.isin(suffixes), codes))
    if kind is None or not maybe.size:  # without a class type column, "class type + ID" is the ID
        return exact
    kinds = kind.iloc[maybe].str.strip().str.upper().fillna("")
    joined = (kinds + distinct.take(codes[maybe]).to_numpy()).isin(ids).to_numpy(dtype=bool, na_value=False)
    return np.asarray(exact | _spread(joined, maybe, len(obs)))


def _by_code(hits: pd.Series, codes: np.ndarray) -> np.ndarray:
    """Each row's answer from its distinct value's (code -1, missing: False)."""
    return np.asarray(np.append(hits.to_numpy(dtype=bool, na_value=False), False)[codes])


def find_product_codes(product_ids: pd.Series, codes: Sequence[str], rows: np.ndarray) -> np.ndarray:
    """Among ``rows`` (a mask), those whose upper-case PRODUCT_ID names one of ``codes`` as its
    two-letter product code (``FRT00014679_01_IF156S_TRR3``: ``IF``)."""
    wanted = set(codes)
    return _on_rows(product_ids, rows, lambda pid: pid is not None and _product_code(pid.upper()) in wanted)


def find_pattern_matches(product_ids: pd.Series, pattern: str, rows: np.ndarray) -> np.ndarray:
    """Among ``rows`` (a mask), those whose upper-case PRODUCT_ID matches the shell ``pattern`` (a missing one: as ``""``)."""
    return _on_rows(product_ids, rows, lambda pid: fnmatch.fnmatchcase("" if pid is None else pid.upper(), pattern))


def _product_code(pid: str) -> str | None:
    match = _PRODUCT_CODE.match(pid)
    return None if match is None else match[1]


def _on_rows(column: pd.Series, rows: np.ndarray, test: Callable[[str | None], bool]) -> np.ndarray:
    where = np.flatnonzero(rows)
    values = column.iloc[where].to_numpy(dtype=object, na_value=None)
    return _spread(np.fromiter((test(v) for v in values), dtype=bool, count=len(values)), where, len(rows))


def _spread(hits: np.ndarray, where: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=bool)
    out[where] = hits
    return out
