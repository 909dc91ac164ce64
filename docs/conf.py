"""Sphinx configuration of the xarray-crism documentation (MyST Markdown, notebooks run by myst-nb).

Build: ``python -m sphinx -W --keep-going -n -b html docs docs/_build/html``. No intersphinx: the
build needs no network. The data-model tables and the module table are generated at the start of
every build (``docs/make_data_model.py``, ``docs/make_modules.py``) into ``docs/_generated/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import xarray_crism  # noqa: E402

project = "xarray-crism"
author = "xarray-crism developers"
copyright = "xarray-crism developers"
release = xarray_crism.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints", "_generated", "make_*.py"]

root_doc = "index"

# MyST and myst-nb: notebooks are executed on every build; an error in a cell fails the build.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 600
nb_execution_excludepatterns: list[str] = []

# autodoc: the public API; type hints in the signatures, none repeated in the descriptions.
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False  # xarray's generic BackendEntrypoint texts would describe our methods wrongly
autodoc_default_options = {"show-inheritance": True}

# Nitpicky mode (-n) stays on. Without intersphinx (no network), names of the standard library and of
# third-party packages in signatures cannot be resolved: they are ignored by name, nothing else is.
_EXTERNAL = (
    r"(os|io|re|collections|collections\.abc|typing|pathlib|dataclasses|enum|numpy|np|xarray|xr|pandas|pd|"
    r"fsspec|intake|dask|distributed|zarr|pvl|tqdm|kerchunk|icechunk|argparse|logging)(\..+)?"
)
nitpick_ignore_regex = [
    (r"py:(class|obj|data|exc|func|meth|attr|mod)", _EXTERNAL),
    (r"py:(class|obj)", r"(xarray_crism(\.[a-z_0-9]+)+\.)?_?T"),  # TypeVars
]

html_theme = "pydata_sphinx_theme"
html_title = "xarray-crism"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []


def _generate(app: object) -> None:
    """Write the generated pages before Sphinx reads the sources; check that api.md covers ``__all__``."""
    import re

    import make_data_model
    import make_modules
    from sphinx.util import logging

    make_data_model.generate()
    make_modules.generate()
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. auto(?:function|class|exception|data)::\s+xarray_crism\.(\w+)\s*$", api, re.M))
    for name in sorted(set(xarray_crism.__all__) - documented - {"__version__"}):
        logging.getLogger(__name__).warning("docs/api.md does not document xarray_crism.%s (it is in __all__)", name)


def _resolve_short_name(app, env, node, contnode):  # type: ignore[no-untyped-def]
    """Docstrings name objects of other modules by their short name (``:class:`RemoteReadError```);
    resolve such a name when exactly one documented object of the package has it."""
    if node.get("refdomain") != "py" or "." in node["reftarget"].lstrip("~"):
        return None
    name = node["reftarget"].lstrip("~")
    domain = env.get_domain("py")
    matches = sorted({
        full for full, entry in domain.objects.items()
        if full.startswith("xarray_crism.") and full.rsplit(".", 1)[-1] == name and not entry.aliased
    })
    if len(matches) != 1:
        return None
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0], node, contnode)


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("builder-inited", _generate)
    app.connect("missing-reference", _resolve_short_name)
    return {"parallel_read_safe": True}
