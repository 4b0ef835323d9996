"""The guide's notebooks: one per topic, committed executed, clean and free of errors.

nbval (configured in pyproject.toml) re-runs every notebook and compares its outputs; these
tests check what nbval cannot: that every topic of the performance guide has a notebook, and
that a committed notebook has outputs to compare, none of them an error, and clean metadata
(``tools/notebooks.py`` ``problems()`` is the single definition of "clean").
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GUIDE = ROOT.parent / "shared" / "seed" / "optimizing-performance.md"  # beside the checkout

#: Each section of the performance guide and the notebook that teaches it.
GUIDE_TOPICS = {
    "Memory-Optimized Inference": "01-memory-optimized-inference.ipynb",
    "Numerical Stability": "02-numerical-stability.ipynb",
    "Efficient Trace Construction": "03-efficient-trace-construction.ipynb",
    "Copy-on-Write for MCMC": "04-copy-on-write-for-mcmc.ipynb",
    "Vectorized Model Patterns": "05-vectorized-model-patterns.ipynb",
    "Performance Monitoring": "06-performance-monitoring.ipynb",
    "Batch Processing": "07-batch-processing.ipynb",
    "Numerical Precision Testing": "08-numerical-precision-testing.ipynb",
    "Performance Testing": "09-performance-testing.ipynb",
    "Production Deployment": "10-production-deployment.ipynb",
}
#: Guide sections that summarise the others rather than teach a topic of their own.
SUMMARY_SECTIONS = {"Common Performance Patterns"}
EXPECTED = sorted(["00-quickstart.ipynb", *GUIDE_TOPICS.values()])
#: Timing cells are excluded from nbval's comparison; they should stay the exception.
MAX_IGNORED_CELLS = 4


def _load_tool():
    path = ROOT / "tools" / "notebooks.py"
    spec = importlib.util.spec_from_file_location("_notebooks_tool", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def _read(name: str) -> nbformat.NotebookNode:
    path = NOTEBOOKS / name
    if not path.exists():
        pytest.fail(f"notebooks/{name} is missing")
    return nbformat.read(path, as_version=4)


# -- the set of notebooks ----------------------------------------------------------------------


def test_the_notebooks_are_exactly_the_guide_plus_a_quickstart():
    committed = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert committed == EXPECTED


@pytest.mark.parametrize("topic", sorted(GUIDE_TOPICS))
def test_every_guide_topic_has_a_notebook(topic):
    assert (NOTEBOOKS / GUIDE_TOPICS[topic]).exists(), f"no notebook for the guide's {topic!r}"


@pytest.mark.skipif(not GUIDE.exists(), reason="the guide is not beside this checkout")
def test_the_topic_table_covers_every_section_of_the_guide():
    sections = re.findall(r"^## (.+?)\s*$", GUIDE.read_text(encoding="utf-8"), flags=re.M)
    assert sections, "no sections found in the guide"
    uncovered = [s for s in sections if s not in GUIDE_TOPICS and s not in SUMMARY_SECTIONS]
    assert uncovered == []


# -- each committed notebook -------------------------------------------------------------------


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_executed_clean_and_error_free(name):
    _read(name)
    assert tool.problems(NOTEBOOKS / name) == []


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_explains_and_shows_diagnostics(name):
    nb = _read(name)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert markdown and markdown[0].source.startswith("# "), "starts with a titled explanation"
    assert any("fugue_lab.diagnostics" in c.source for c in code), "uses the diagnostics layer"
    mimes = {k for c in code for o in c.outputs for k in o.get("data", {})}
    assert "image/png" in mimes, "shows at least one plot"
    assert "text/html" in mimes, "shows at least one frame"
    first = code[0].source
    assert "%matplotlib inline" in first, "the first cell selects the inline backend"


@pytest.mark.parametrize("name", EXPECTED)
def test_variable_cells_are_few_and_nothing_is_skipped(name):
    nb = _read(name)
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert tags.count("nbval-ignore-output") <= MAX_IGNORED_CELLS
    assert "nbval-skip" not in tags
    markers = ("# NBVAL_SKIP", "# NBVAL_IGNORE")
    assert not any(c.source.lstrip().startswith(markers) for c in nb.cells)


# -- the check itself can fail -----------------------------------------------------------------


def _write(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")
    return path


def _executed() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A notebook"),
        nbformat.v4.new_code_cell("1 + 1"),
        nbformat.v4.new_code_cell("print('hi')"),
    ]
    nb.cells[1].outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=5)
    ]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    return nb


def test_problems_accepts_a_clean_executed_notebook(tmp_path):
    path = _write(tool.clean(_executed()), tmp_path / "ok.ipynb")
    assert tool.problems(path) == []
    nb = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == [1, 2]  # nbval checks outputs only of cells with a count
    assert nb.cells[1].outputs[0].execution_count == 1


def test_problems_flags_a_notebook_without_outputs(tmp_path):
    nb = _executed()
    for cell in nb.cells[1:]:
        cell.outputs = []
    path = _write(tool.clean(nb), tmp_path / "bare.ipynb")
    assert any("without outputs" in p for p in tool.problems(path))


def test_problems_flags_an_error_output(tmp_path):
    nb = _executed()
    nb.cells[2].outputs = [
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])
    ]
    path = _write(tool.clean(nb), tmp_path / "error.ipynb")
    assert any("ValueError" in p for p in tool.problems(path))


def test_problems_flags_a_warning_on_stderr(tmp_path):
    nb = _executed()
    nb.cells[2].outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow\n")
    ]
    path = _write(tool.clean(nb), tmp_path / "warn.ipynb")
    assert any("stderr" in p for p in tool.problems(path))


def test_problems_flags_an_unclean_notebook(tmp_path):
    nb = tool.clean(_executed())
    nb.cells[1].execution_count = 17
    nb.cells[1].metadata["collapsed"] = True
    path = _write(nb, tmp_path / "noisy.ipynb")
    assert any("not clean" in p for p in tool.problems(path))


# -- the configuration that makes `pytest` run them --------------------------------------------


def test_pytest_runs_the_notebooks_under_strict_nbval(pytestconfig):
    assert pytestconfig.inipath == ROOT / "pyproject.toml"
    assert "notebooks" in pytestconfig.getini("testpaths")
    addopts = pytestconfig.getini("addopts")
    assert "--nbval" in addopts and "--nbval-lax" not in addopts
    assert "--doctest-modules" in addopts
    sanitize = addopts[addopts.index("--nbval-sanitize-with") + 1]
    assert (ROOT / sanitize).exists()


def test_sanitizers_are_valid_regexes_that_do_what_they_say():
    from nbval.plugin import get_sanitize_patterns  # the parser nbval itself uses

    text = (NOTEBOOKS / "sanitize.cfg").read_text(encoding="utf-8")
    patterns = [(re.compile(regex), replace) for regex, replace in get_sanitize_patterns(text)]
    assert len(patterns) == text.count("\nregex: "), "every section parses"

    def sanitize(text: str) -> str:
        for pattern, replace in patterns:
            text = pattern.sub(replace, text)
        return text

    assert sanitize("<object at 0x7f3a2b1c9d40>") == sanitize("<object at 0x55d1e2f3a4b0>")
    assert sanitize("took 12.5 ms") == sanitize("took 9.1 ms")
    assert sanitize(" 40%|████      | 4/10 [00:01<00:02, 3.1it/s]") == sanitize(
        " 90%|█████████ | 9/10 [00:02<00:00, 4.7it/s]"
    )
    assert sanitize("tcp://127.0.0.1:40321") == sanitize("tcp://127.0.0.1:35555")
    # and leave ordinary results alone
    assert sanitize("posterior mean 0.739 ± 0.014") == "posterior mean 0.739 ± 0.014"
    assert sanitize("20 choices, 19 observations") == "20 choices, 19 observations"
