"""Sphinx configuration for the fugue_lab documentation site.

Build it from the repository root with ``sphinx-build -W -b html docs docs/_build/html``
(the ``docs`` extra installs what it needs). The guide's notebooks are rendered with the
outputs they were committed with (myst-nb, no execution); they are copied from
``notebooks/`` into ``docs/notebooks/`` when the build starts, because Sphinx only reads
files below its source directory.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
if str(ROOT) not in sys.path:  # document the checkout even if it is not installed
    sys.path.insert(0, str(ROOT))

project = "fugue_lab"
author = "fugue_lab developers"
copyright = "fugue_lab developers"
release = version = "0.1.0"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
# ref.python: a name re-exported by two modules (``BatchError`` lives in fugue_lab.errors and
# is re-exported by fugue_lab.inference.batch) makes a cross-reference ambiguous; both targets
# document the same object, so the ambiguity is harmless.
suppress_warnings = ["mystnb.unknown_mime_type", "ref.python"]

# -- notebooks (myst-nb) ------------------------------------------------------------------
nb_execution_mode = "off"  # render the committed outputs; nbval checks they are current
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# -- API reference (autodoc + napoleon for the numpydoc docstrings) ------------------------
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# An "Attributes" section becomes a field list: a NamedTuple's fields are documented once.
napoleon_use_ivar = True

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "fugue_lab"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}


def _copy_notebooks(app: object, config: object) -> None:
    """Mirror ``notebooks/NN-*.ipynb`` into ``docs/notebooks/`` (only what changed)."""
    source, target = ROOT / "notebooks", DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    wanted = {p.name: p for p in sorted(source.glob("[0-9][0-9]-*.ipynb"))}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name, path in wanted.items():
        copy = target / name
        if not copy.exists() or copy.read_bytes() != path.read_bytes():
            shutil.copyfile(path, copy)


def setup(app: object) -> dict[str, object]:
    app.connect("config-inited", _copy_notebooks)  # type: ignore[attr-defined]
    return {"parallel_read_safe": True}
