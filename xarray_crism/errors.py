"""Exceptions raised by xarray-crism.

Every exception is a :class:`CrismError`, itself a :class:`ValueError`, and its message names the
file, the label keyword, the offending value and what was expected, so that a user can tell at a
glance which product is wrong and how.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CompanionMismatchError",
    "CrismError",
    "FileChangedError",
    "LabelNotFoundError",
    "LabelSyntaxError",
    "LabelValueError",
    "QueryError",
    "RemoteReadError",
    "SelectionError",
    "ShapeMismatchError",
    "SidecarNotFoundError",
    "SidecarWarning",
    "StoreExistsError",
    "TruncatedFileError",
    "UnsafePathError",
    "UnsupportedProductError",
    "UnsupportedSourceError",
    "cli_wording",
]


class CrismError(ValueError):
    """Base class of every error of the package.

    Attributes ``file``, ``keyword``, ``value`` and ``expected`` hold the parts of the message, so
    that callers (catalog builders, converters) can report them without parsing text.
    """

    def __init__(
        self,
        file: str,
        keyword: str,
        value: Any,
        expected: str,
        hint: str = "",
    ) -> None:
        self.file = file
        self.keyword = keyword
        self.value = value
        self.expected = expected
        self.hint = hint
        message = f"{file}: {keyword} = {value!r}; expected {expected}"
        if hint:
            message += f". {hint}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.keyword, self.value, self.expected, self.hint))


class LabelSyntaxError(CrismError):
    """A label (PDS3 ODL) that does not parse."""


class LabelValueError(CrismError):
    """A label keyword that is missing or has a value the reader cannot use."""


class UnsupportedProductError(CrismError):
    """A product of a type the backend does not read."""


class TruncatedFileError(CrismError):
    """A data file shorter than its label says."""


class FileChangedError(CrismError):
    """A data file that changed (size or modification time) after its product was opened."""


class UnsafePathError(CrismError):
    """A pointer or sidecar name that would leave the product's directory."""


class SidecarNotFoundError(CrismError):
    """A companion file (DDR, WA CDR, ...) that was asked for and not found."""


class CompanionMismatchError(CrismError):
    """A companion product given explicitly (``ddr=PATH``) that belongs to another product."""


class SidecarWarning(UserWarning):
    """A companion file named by a label was not used as named (absent, or another epoch stood in)."""


class LabelNotFoundError(SidecarNotFoundError):
    """A data file (``.IMG``) opened without its detached label, which is not beside it."""


class ShapeMismatchError(CrismError):
    """A companion product whose shape does not match the product it joins."""


class QueryError(CrismError):
    """A catalog query or option (filter, bounding box, time range) that cannot be applied."""


class RemoteReadError(CrismError):
    """A remote read that still failed after its retries, or an answer that cannot be right (Range ignored)."""


class UnsupportedSourceError(CrismError, TypeError):
    """An object a function cannot take (``to_zarr(1, ...)``): also a :class:`TypeError`; the message lists what it accepts."""


class StoreExistsError(CrismError):
    """A conversion target that exists and is not a finished conversion of the same source (``mode="w-"``)."""


class SelectionError(CrismError, KeyError):
    """A label selection (``sel(wavelength=...)``) that no band fits, or that cannot be answered.

    It is also a :class:`KeyError`, as xarray's own selection errors are.
    """


#: How hints written for the Python API (``pass sidecar_dirs=[...]``) read on the command line: each
#: API phrase, and the flag of ``xarray-crism`` that does the same. Hints use these exact phrases.
CLI_WORDING: tuple[tuple[str, str], ...] = (
    ("pass sidecar_dirs=[...]", "pass --sidecar-dir DIR (once per directory or URL)"),
    ("pass ddr='auto'", "pass --ddr auto"),
    ("pass mode='w' (CLI: --overwrite)", "pass --overwrite"),
    ("pass mode='w'", "pass --overwrite"),
    ("pass bayer='raw'", "pass --bayer raw (the default)"),
    ("pass ddr_volume=...", "pass --ddr-volume URL"),
    ("pass cdr_volume=...", "pass --cdr-volume URL"),
    ("pass path_case='lower' (or 'upper', 'as-is')", "use the Python API: open_catalog(..., path_case='lower')"),
)


def cli_wording(text: str) -> str:
    """``text`` (an error message or a conversion report) with its API hints reworded for the CLI (:data:`CLI_WORDING`)."""
    for api, cli in CLI_WORDING:
        text = text.replace(api, cli).replace(api[0].upper() + api[1:], cli[0].upper() + cli[1:])
    return text
