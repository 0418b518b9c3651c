"""Sphinx configuration of argnn-sim's documentation (``make docs``)."""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

sys.path.insert(0, os.path.abspath(".."))
# the notebooks' kernels draw inline (their figures are images on the site), whatever the
# shell set; this process draws nothing (argnn_sim.plots picks Agg itself here)
os.environ.pop("MPLBACKEND", None)

project = "argnn-sim"
author = "the argnn-sim developers"
copyright = "2026, the argnn-sim developers"
try:
    release = _version("argnn-sim")
except PackageNotFoundError:  # pragma: no cover - a source tree
    release = "unknown"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
# the notebooks (docs/notebooks links to ../notebooks) run at every build, in their own
# folder, as `make test` runs them; a cell that fails fails the build
nb_execution_mode = os.environ.get("ARGNN_DOCS_EXECUTE", "force")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
exclude_patterns = ["_build", "figures/**/*.md", "figures/*.md"]
myst_heading_anchors = 3
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_typehints = "description"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_ivar = True
html_theme = "alabaster"
html_title = f"argnn-sim {release}"
suppress_warnings = ["myst.header"]
