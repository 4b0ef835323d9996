"""What the widgets share: the lazy ipywidgets import and figure-to-PNG rendering."""

from __future__ import annotations

import io
from types import ModuleType
from typing import TYPE_CHECKING

from fugue_lab.diagnostics._deps import require

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ipywidgets", "new_figure", "png_bytes"]


def ipywidgets(feature: str) -> ModuleType:
    """The ipywidgets module, or :class:`~fugue_lab.errors.MissingExtraError` naming ``lab``."""
    return require("ipywidgets", "lab", feature)


def new_figure(feature: str, ncols: int = 1, width: float = 6.4) -> Figure:
    """A Figure outside pyplot (no global figure registry, no backend), ``ncols`` Axes wide."""
    require("matplotlib", "lab", feature)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, 4.0))
    fig.subplots(1, ncols)
    return fig


def png_bytes(figure: Figure, dpi: int = 90) -> bytes:
    """``figure`` rendered as PNG bytes (for an ``ipywidgets.Image``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()
