"""CF ``mask_and_scale`` done by the reader, in one pass over each block while it is in the CPU cache.

xarray's CF decoder copies an array, then compares it with each constant and ORs the masks, then
selects: three passes over the whole array and 1.25 extra arrays of memory. A :class:`Decoding`
does the same arithmetic as xarray (``_apply_mask`` then ``_scale_offset_decoding``, bit for bit)
on each block of bytes as it lands (:func:`~xarray_crism.io.sources.read_ranges`' ``on_block``):
a float array without scaling is masked in place (no copy; a block without the constant is only
compared), a scaled one is written once into its output dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DecodedArray", "Decoding", "build_decoding", "to_native"]


@dataclass(frozen=True)
class Decoding:
    """Stored ``constants`` -> NaN, then ``value * scale + offset``, as ``dtype`` (CF, as xarray decodes)."""

    constants: tuple[Any, ...]
    scale: float | None
    offset: float | None
    dtype: np.dtype

    def in_place(self, stored: np.dtype) -> bool:
        """Whether decoding can overwrite the stored values (same native dtype, no scaling)."""
        return self.scale is None and self.offset is None and stored.newbyteorder("=") == self.dtype

    def decode_into(self, raw: np.ndarray, out: np.ndarray) -> None:
        """Decode ``raw`` into ``out`` (same shape; ``out`` may be ``raw`` itself when :meth:`in_place`)."""
        if self.scale is not None and out is not raw:
            np.multiply(raw, np.float64(self.scale), out=out, casting="unsafe")  # converts as it scales
        elif out is not raw:
            np.copyto(out, raw, casting="unsafe")
        elif self.scale is not None:
            np.multiply(out, np.float64(self.scale), out=out, casting="same_kind")
        if self.offset is not None:
            np.add(out, np.float64(self.offset), out=out, casting="same_kind")
        for constant in self.constants:
            hit = raw == constant
            if hit.any():
                np.copyto(out, np.nan, where=hit)

    def decode(self, raw: np.ndarray, *, fresh: bool) -> np.ndarray:
        """The decoded array: ``raw`` itself when it is ``fresh`` (nobody else holds it) and decodable in place."""
        if not isinstance(raw, np.ndarray):  # one value (every index an integer): a numpy scalar
            raw, fresh = np.array(raw), True
        if fresh and raw.dtype == self.dtype and self.in_place(raw.dtype):
            self.decode_into(raw, raw)
            return raw
        out = np.empty(raw.shape, dtype=self.dtype)
        self.decode_into(raw, out)
        return out


def to_native(raw: np.ndarray) -> np.ndarray:
    """``raw`` in native byte order, swapped in place (``raw`` must be an array nobody else holds)."""
    return raw if raw.dtype.isnative else raw.byteswap(inplace=True).view(raw.dtype.newbyteorder("="))


def build_decoding(stored: np.dtype, encoding: dict[str, Any], dtype: np.dtype) -> Decoding:
    """The decoding of a stored array from its CF keys (``_FillValue``, ``missing_value``, scale, offset).

    NaN constants are left out (nothing compares equal to NaN: xarray's mask skips them the same way).
    """
    values = [encoding[k] for k in ("_FillValue", "missing_value") if k in encoding]
    constants: list[Any] = []
    for value in np.ravel(np.asarray(values, dtype=object)) if values else ():
        c = np.asarray(value, dtype=stored.newbyteorder("=")).item()
        if c == c and c not in constants:
            constants.append(c)
    scale, offset = encoding.get("scale_factor"), encoding.get("add_offset")
    return Decoding(
        tuple(constants), None if scale is None else float(scale), None if offset is None else float(offset),
        np.dtype(dtype),
    )


@dataclass(frozen=True, eq=False)
class DecodedArray:
    """A lazy array read and decoded: by its reader block by block when it can, otherwise after the read."""

    array: Any
    decoding: Decoding

    @property
    def dims(self) -> tuple[str, ...]:
        """Dimension names of the wrapped array."""
        return tuple(self.array.dims)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the wrapped array."""
        return tuple(self.array.shape)

    @property
    def dtype(self) -> np.dtype:
        """The decoded dtype."""
        return self.decoding.dtype

    def read(self, key: Any) -> np.ndarray:
        """Read ``self[key]`` (outer indexing), decoded."""
        read_decoded = getattr(self.array, "read_decoded", None)
        if read_decoded is not None:
            return read_decoded(key, self.decoding)  # type: ignore[no-any-return]
        return self.decoding.decode(self.array.read(key), fresh=False)
