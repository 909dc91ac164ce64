"""What each line of a VS ADR holds, from its label's comments (pure text -> structures).

A VS (volcano-scan) ADR image has 1 line (version 6) or 3 lines (version 8) of binned detector
columns x bands. Its label says, in comments, what the lines are: "The first line is the
atmospheric transmission spectrum at each binned detector column", then one comment per artifact
line, ``Line 2: [2007.0,1980.0], McGuire``, giving the pair of scaling wavelengths (nm) the
artifact spectrum goes with and whose method that pair is. The line roles are read from those
comments, never assumed: a line after the first that no comment describes is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import LabelValueError
from .conventions import slug

__all__ = ["TRANSMISSION", "LineRole", "build_line_roles", "parse_label_comments"]

#: Variable of line 1, the atmospheric transmission per binned detector column.
TRANSMISSION = "atmospheric_transmission"

_LINE = re.compile(
    r"Line\s+(?P<line>\d+)\s*:\s*\[\s*(?P<a>\d+(?:\.\d*)?)\s*,\s*(?P<b>\d+(?:\.\d*)?)\s*\]\s*,\s*(?P<name>[A-Za-z][\w-]*)"
)
_CONTINUUM = re.compile(r"interpolation\s+wavelengths\s+were:\s*(\d+(?:\.\d*)?)\s*,\s*(\d+(?:\.\d*)?)\s*nm", re.IGNORECASE)
_COMMENT = re.compile(r"/\*(.*?)\*/", re.DOTALL)


@dataclass(frozen=True)
class LineRole:
    """One line of the image as a variable: its name, long name and attributes."""

    variable: str
    long_name: str
    attrs: dict[str, Any] = field(default_factory=dict)


def parse_label_comments(text: str) -> str:
    """The text of every ``/* ... */`` comment of a label, one per line, in order."""
    return "\n".join(" ".join(m.split()) for m in _COMMENT.findall(text))


def build_line_roles(label_text: str, lines: int, url: str) -> list[LineRole]:
    """The role of each of the image's ``lines`` lines: transmission first, then the described artifacts."""
    comments = parse_label_comments(label_text)
    described = {int(m["line"]): m for m in _LINE.finditer(comments)}
    extra = sorted(n for n in described if not 2 <= n <= lines)
    if extra:
        raise LabelValueError(url, "label comments", f"Line {extra[0]}", f"artifact lines 2 to {lines} (LINES = {lines})")
    continuum = _continuum(comments)
    roles = [LineRole(TRANSMISSION, "atmospheric transmission (volcano scan)", {"image_line": 1})]
    for line in range(2, lines + 1):
        if line not in described:
            raise LabelValueError(
                url, "label comments", f"no description of line {line}",
                f"a comment 'Line {line}: [a, b], Name' for every line after the first (LINES = {lines})",
            )
        roles.append(_artifact_role(described[line], line, continuum))
    names = [r.variable for r in roles]
    if len(set(names)) != len(names):
        raise LabelValueError(url, "label comments", names, "artifact lines with distinct names")
    return roles


def _artifact_role(match: re.Match[str], line: int, continuum: list[float] | None) -> LineRole:
    pair = [float(match["a"]), float(match["b"])]
    name = match["name"]
    attrs: dict[str, Any] = {"image_line": line, "scaling_wavelengths": pair, "method": name}
    if continuum is not None:
        attrs["continuum_wavelengths"] = continuum
    long_name = f"artifact spectrum for scaling wavelengths {pair[0]:g}/{pair[1]:g} nm ({name})"
    return LineRole(f"artifact_{slug(name)}", long_name, attrs)


def _continuum(comments: str) -> list[float] | None:
    m = _CONTINUUM.search(comments)
    return None if m is None else [float(m[1]), float(m[2])]
