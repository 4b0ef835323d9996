"""One self-contained HTML report of the guide's topics: frames as tables, plots as PNGs.

``fugue-lab report --out report.html`` calls :func:`write_report`. The file
has no external references (the figures are base64-encoded PNGs, the style is
inline), so it can be mailed or attached to a CI run as it is.

Examples
--------
>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = write_report(pathlib.Path(tmp) / "r.html", topics=["numerical-stability"])
...     text = path.read_text()
>>> "<table" in text and "Numerical Stability" in text
True
"""

from __future__ import annotations

import base64
import html
import io
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fugue_lab.diagnostics._deps import pandas, pyplot
from fugue_lab.diagnostics.topics import TOPICS, Topic, TopicOutput, get_topic

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["figure_to_png", "frame_to_html", "render_html", "write_report"]

#: Frames longer than this show their first rows only (the note says how many there are).
MAX_ROWS = 60

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #aaa; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f0f0f0; } caption { text-align: left; font-weight: bold; padding: 4px 0; }
.notes li { margin: 0.3em 0; } .error { background: #fee; border: 1px solid #c00; padding: 1em; }
img { max-width: 100%; } .meta { color: #666; font-size: 0.9em; }
"""


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def frame_to_html(frame: pd.DataFrame, name: str, max_rows: int = MAX_ROWS) -> str:
    """An HTML table of ``frame`` (numbers to 6 significant digits, for display only).

    Examples
    --------
    >>> import pandas as pd
    >>> "<caption>t</caption>" in frame_to_html(pd.DataFrame({"a": [1.23456789]}), "t")
    True
    """
    shown = frame.head(max_rows)
    table = shown.to_html(
        float_format=lambda v: f"{v:.6g}", formatters=None, border=0, escape=True,
        index=not isinstance(frame.index, pandas("frame_to_html").RangeIndex),
    )  # fmt: skip
    caption = html.escape(name)
    if len(frame) > max_rows:
        caption += f" (first {max_rows} of {len(frame)} rows)"
    return table.replace(">", f"><caption>{caption}</caption>", 1)


def figure_to_png(figure: Figure, dpi: int = 96) -> str:
    """``figure`` as a base64 PNG ``<img>`` tag."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _section(topic: Topic, output: TopicOutput | None, error: str | None, seconds: float) -> str:
    parts = [f'<h2 id="{html.escape(topic.name)}">{html.escape(topic.title)}</h2>']
    parts.append(f'<p class="meta">topic <code>{html.escape(topic.name)}</code>, '
                 f"{seconds:.2f} s</p>")  # fmt: skip
    if error is not None or output is None:
        parts.append(f'<pre class="error">{html.escape(error or "no output")}</pre>')
        return "\n".join(parts)
    if output.notes:
        items = "".join(f"<li>{html.escape(note)}</li>" for note in output.notes)
        parts.append(f'<ul class="notes">{items}</ul>')
    for name, figure in output.figures.items():
        parts.append(f"<figure>{figure_to_png(figure)}<figcaption>{html.escape(name)}"
                     "</figcaption></figure>")  # fmt: skip
    for name, frame in output.frames.items():
        parts.append(frame_to_html(frame, name))
    return "\n".join(parts)


def render_html(
    topics: Iterable[str | Topic] | None = None, *, quick: bool = True, seed: int = 0
) -> str:
    """Run the topics and return the report as one HTML string.

    A topic that raises does not stop the report: its section shows the traceback.
    Every figure is closed once it is encoded.
    """
    plt = pyplot("render_html")
    chosen = [t if isinstance(t, Topic) else get_topic(t) for t in (topics or TOPICS)]
    sections, toc = [], []
    started = time.perf_counter()
    for topic in chosen:
        t0 = time.perf_counter()
        output, error = None, None
        try:
            output = topic.run(quick=quick, seed=seed)
        except Exception:
            error = traceback.format_exc()
        try:
            sections.append(_section(topic, output, error, time.perf_counter() - t0))
        finally:
            for figure in output.figures.values() if output is not None else ():
                plt.close(figure)
        toc.append(f'<li><a href="#{html.escape(topic.name)}">{html.escape(topic.title)}</a></li>')
    from fugue_lab import __version__

    head = (
        f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>fugue_lab performance report</title><style>{_STYLE}</style></head><body>"
        f"<h1>fugue_lab performance report</h1>"
        f'<p class="meta">fugue_lab {html.escape(__version__)}, seed {seed}, '
        f"{'quick' if quick else 'full'} sizes, {time.perf_counter() - started:.1f} s in all. "
        "Timings are this machine's: compare rows with each other.</p>"
        f"<ol>{''.join(toc)}</ol>"
    )
    return head + "\n".join(sections) + "</body></html>\n"


def write_report(
    path: str | Path,
    *,
    topics: Iterable[str | Topic] | None = None,
    quick: bool = True,
    seed: int = 0,
) -> Path:
    """Run the guide's topics and write one self-contained HTML file.

    Parameters
    ----------
    path
        Where to write (parent directories must exist).
    topics
        Topic names or :class:`~fugue_lab.diagnostics.topics.Topic` objects
        (default: all of :data:`~fugue_lab.diagnostics.topics.TOPICS`).
    quick
        Small sizes (seconds) or the sizes of WORKLOADS.md.
    seed
        The random seed every topic uses.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InvalidParameterError
        If a topic name is unknown.

    Examples
    --------
    A topic can be your own: any ``run(quick, seed) -> TopicOutput``.

    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from fugue_lab.diagnostics.topics import Topic, TopicOutput
    >>> def squares(quick=True, seed=0):
    ...     return TopicOutput({"squares": pd.DataFrame({"n": [1, 2], "n2": [1, 4]})}, {}, ["Hi."])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_report(pathlib.Path(tmp) / "sq.html", topics=[Topic("sq", "Sq", squares)])
    ...     text = path.read_text(encoding="utf-8")
    >>> path.name, text.count("<table"), "<li>Hi.</li>" in text
    ('sq.html', 1, True)
    """
    text = render_html(topics, quick=quick, seed=seed)
    out = Path(path)
    out.write_text(text, encoding="utf-8")
    return out
