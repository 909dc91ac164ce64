"""The package's layers, lowest first: a module may import from its own layer and the layers below.

Data flow one way: bytes (:mod:`.io`) -> labels (:mod:`.labels`) -> archive formats as pure tables
(:mod:`.formats`) -> the product model, no xarray (:mod:`.model`) -> lazy xarray (:mod:`.xr`) ->
consumers: analysis (:mod:`.analysis`), archives and Intake (:mod:`.archive`), Zarr and references
(:mod:`.cloud`), the command line (:mod:`.cli`). The product writers (:mod:`.testing`) stand beside
the readers: they may use the support modules, and nothing of the package imports them. The
package's ``__init__`` is the public API and may load any layer. ``tests/test_00_layers.py``
enforces this table on every module's imports (lazy ones too) and checks there are no cycles.
"""

from __future__ import annotations

__all__ = ["LAYERS", "SIDE_LAYERS"]

#: Layer name -> the sub-packages and top-level modules in it, lowest layer first.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("support", ("errors", "samples", "version", "layers")),
    ("bytes", ("io",)),
    ("labels", ("labels",)),
    ("formats", ("formats",)),
    ("model", ("model",)),
    ("xarray", ("xr",)),
    ("analysis", ("analysis",)),
    ("archives", ("archive",)),
    ("cloud", ("cloud",)),
    ("command line", ("cli",)),
)

#: Layers outside the chain: name -> (members, the layers they may import). No other layer imports them.
SIDE_LAYERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "product writers": (("testing",), ("support",)),
}
