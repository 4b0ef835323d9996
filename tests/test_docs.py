"""The documentation site builds with warnings as errors (when Sphinx and myst-nb are installed).

The ``test`` extra installs them, so CI builds the site on every submission; the build
renders the committed notebooks without executing them and imports every documented module
for the API reference. It takes well under a minute.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

needs_sphinx = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("sphinx", "myst_nb", "pydata_sphinx_theme")),
    reason="the docs extra (sphinx, myst-nb, pydata-sphinx-theme) is not installed",
)


@needs_sphinx
def test_docs_build_without_warnings(tmp_path):
    out, doctrees = tmp_path / "html", tmp_path / "doctrees"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(doctrees), str(DOCS), str(out)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"sphinx-build failed:\n{done.stderr[-5000:]}"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "fugue_lab" in index
    for page in ("installation.html", "benchmarks.html", "api/index.html"):
        assert (out / page).exists(), f"{page} was not built"
    rendered = sorted(p.name for p in (out / "notebooks").glob("*.html"))
    committed = sorted(p.stem + ".html" for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert rendered == committed
    # the notebooks are rendered with their stored outputs, plots included
    assert any((out / "_images").glob("*.png"))
