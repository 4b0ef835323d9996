"""The guide's topics (tour and report share them) and the self-contained HTML report."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest
from matplotlib.figure import Figure

from fugue_lab.diagnostics.report import render_html, write_report
from fugue_lab.diagnostics.topics import TOPICS, Topic, TopicOutput, get_topic
from fugue_lab.errors import InvalidParameterError

GUIDE_SECTIONS = [
    "Memory-Optimized Inference", "Numerical Stability", "Efficient Trace Construction",
    "Copy-on-Write for MCMC", "Vectorized Model Patterns", "Performance Monitoring",
    "Batch Processing", "Numerical Precision Testing", "Performance Testing",
    "Production Deployment",
]  # fmt: skip


@pytest.fixture(scope="module")
def outputs() -> dict[str, TopicOutput]:
    """Every topic once, quick sizes (a few seconds in all)."""
    import matplotlib.pyplot as plt

    out = {t.name: t.run(quick=True, seed=0) for t in TOPICS}
    yield out
    for o in out.values():
        for fig in o.figures.values():
            plt.close(fig)


def test_one_topic_per_guide_section() -> None:
    assert [t.title for t in TOPICS] == GUIDE_SECTIONS
    assert len({t.name for t in TOPICS}) == len(TOPICS)
    assert get_topic("copy-on-write").title == "Copy-on-Write for MCMC"
    with pytest.raises(InvalidParameterError, match="memory-pooling"):
        get_topic("memory")


@pytest.mark.parametrize("name", [t.name for t in TOPICS])
def test_topic_output_is_frames_figures_and_notes(outputs: dict, name: str) -> None:
    output = outputs[name]
    assert isinstance(output, TopicOutput)
    assert output.frames and output.notes
    for frame in output.frames.values():
        assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    for fig in output.figures.values():
        assert isinstance(fig, Figure)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig.canvas.draw()  # draws without overflow warnings at extreme scales
    assert all(isinstance(n, str) and n for n in output.notes)


def test_topics_report_what_they_measure(outputs: dict) -> None:
    timing = outputs["memory-pooling"].frames["timing"].set_index("handler")
    assert timing.loc["PooledPriorHandler", "new_traces"] == 1  # one miss, then reuse
    checks = outputs["performance-testing"].frames["checks"]
    assert checks["passed"].all(), checks[~checks["passed"]]
    extremes = outputs["numerical-stability"].frames["extremes"]
    finite = extremes[extremes["exact"].abs() < float("inf")]
    assert (abs(finite["stable"] - finite["exact"]) <= 1e-12 * abs(finite["exact"]) + 1e-300).all()
    sizing = outputs["production-deployment"].frames["sizing"]
    assert sizing["drops"].iloc[-1] == 0 and sizing["hit_ratio"].iloc[-1] == 1.0
    clones = outputs["copy-on-write"].frames["clones"]
    assert clones["original_unchanged"].all()


def test_report_is_one_self_contained_file(tmp_path) -> None:
    path = write_report(tmp_path / "report.html", topics=["numerical-stability",
                                                          "production-deployment"])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "Numerical Stability" in text and "Production Deployment" in text
    assert "Memory-Optimized Inference" not in text
    assert text.count("<table") == 4
    assert len(re.findall(r'src="data:image/png;base64,', text)) == 1
    assert not re.search(r'(src|href)="(https?:|//|file:)', text)  # nothing external


def test_a_failing_topic_shows_its_error_and_the_rest_goes_on() -> None:
    def broken(quick: bool = True, seed: int = 0) -> TopicOutput:
        raise RuntimeError("this topic is broken")

    text = render_html([Topic("broken", "Broken", broken), "numerical-stability"])
    assert "RuntimeError: this topic is broken" in text and "Numerical Stability" in text


def test_unknown_topic_in_report_raises(tmp_path) -> None:
    with pytest.raises(InvalidParameterError):
        write_report(tmp_path / "r.html", topics=["nope"])
