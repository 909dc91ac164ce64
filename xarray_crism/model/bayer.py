"""Raw Bayer mosaics split into R, G, B planes at half resolution (``bayer="split"``).

A raw-Bayer Mastcam-Z image (``BAYER_METHOD = RAW_BAYER``) is one band in which each 2 x 2
cell holds one red, two green and one blue pixel, placed by ``CFA_TYPE`` (:data:`CFA_PATTERNS`).
:class:`BayerPlanes` reads only the mosaic rows and columns an index touches and returns the
planes as ``(band, line, sample)`` with band 0 = R, 1 = G, 2 = B. G is the mean of the two
greens; where either green is a missing/invalid constant, G is that constant (a masked pixel
is never averaged with a valid one). An odd last row or column (no full cell) is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .product import DiskArray
from .reader import Key

__all__ = ["CFA_PATTERNS", "BayerPlanes"]

#: CFA_TYPE -> (row, column) of R, of the two Gs and of B inside a 2 x 2 cell.
CFA_PATTERNS: dict[str, tuple[tuple[int, int], tuple[tuple[int, int], tuple[int, int]], tuple[int, int]]] = {
    "BAYER_RGGB": ((0, 0), ((0, 1), (1, 0)), (1, 1)),
    "BAYER_BGGR": ((1, 1), ((0, 1), (1, 0)), (0, 0)),
    "BAYER_GRBG": ((0, 1), ((0, 0), (1, 1)), (1, 0)),
    "BAYER_GBRG": ((1, 0), ((0, 0), (1, 1)), (0, 1)),
}


@dataclass(frozen=True, eq=False)
class BayerPlanes:
    """The R, G, B planes of a one-band mosaic, lazily (float32 DN, masked constants kept)."""

    mosaic: DiskArray
    pattern: str
    constants: tuple[float, ...] = ()

    dims = ("band", "line", "sample")

    @property
    def shape(self) -> tuple[int, ...]:
        """``(3, lines // 2, samples // 2)``."""
        _, lines, samples = self.mosaic.shape
        return 3, lines // 2, samples // 2

    @property
    def dtype(self) -> np.dtype:
        """float32: the mean of two greens may be a half DN."""
        return np.dtype(np.float32)

    def read(self, key: Key) -> np.ndarray:
        """Read ``self[key]`` (outer indexing) from the mosaic rows and columns it needs."""
        index = [np.atleast_1d(np.arange(n)[k]) for k, n in zip(key, self.shape, strict=True)]
        bands, lines, samples = index
        out = np.empty((bands.size, lines.size, samples.size), dtype=np.float32)
        if out.size:
            first_line, first_sample = 2 * lines.min(), 2 * samples.min()
            block = self.mosaic.read(
                (0, slice(first_line, 2 * lines.max() + 2), slice(first_sample, 2 * samples.max() + 2))
            )
            rows, cols = 2 * (lines - lines.min()), 2 * (samples - samples.min())
            red, greens, blue = CFA_PATTERNS[self.pattern]
            cells = {0: (red,), 1: greens, 2: (blue,)}
            for i, band in enumerate(bands):
                out[i] = self._combine([block[np.ix_(rows + dy, cols + dx)] for dy, dx in cells[int(band)]])
        dropped = tuple(0 if isinstance(k, (int, np.integer)) else slice(None) for k in key)
        return out[dropped]

    def _combine(self, planes: list[np.ndarray]) -> np.ndarray:
        if len(planes) == 1:
            return planes[0].astype(np.float32)
        first, second = (p.astype(np.float32) for p in planes)
        mean = (first + second) / np.float32(2)
        for constant in self.constants:
            mean = np.where(first == constant, first, np.where(second == constant, second, mean))
        return mean
