"""precision_explorer: pick a function, a scale range and a dtype; see the sweep.

Examples
--------
>>> explorer = precision_explorer()
>>> explorer.function.value = "log1p_exp"
>>> explorer.log10_scales.value = (-5, 5)
>>> explorer.run_button.click()
>>> sorted(set(explorer.frame["function"]))
['log1p_exp', 'naive_log1p_exp']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fugue_lab.diagnostics.plots import plot_precision_sweep
from fugue_lab.diagnostics.precision import available_functions, precision_sweep
from fugue_lab.widgets._common import ipywidgets, new_figure, png_bytes

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PrecisionExplorer", "precision_explorer"]

_FEATURE = "precision_explorer"
_SHOWN = ["function", "scale", "dtype", "value", "reference", "rel_error", "ulp_error",
          "seconds_per_call", "exception"]  # fmt: skip


def _families() -> dict[str, list[str]]:
    """Stable name -> [stable name, naive counterpart] (as precision_sweep pairs them)."""
    names = available_functions()
    out: dict[str, list[str]] = {}
    frame = precision_sweep(names, scales=[1.0], dtypes=["float64"], min_time_s=0)
    for name, family in zip(frame["function"], frame["family"]):
        out.setdefault(family, []).append(name)
    return out


class PrecisionExplorer:
    """The explorer's widgets and its latest frame (see :func:`precision_explorer`).

    Attributes
    ----------
    function
        ``ipywidgets.Dropdown`` of the stable functions (the naive counterpart,
        if any, is swept too).
    log10_scales
        ``ipywidgets.IntRangeSlider``: the scales run from ``10**lo`` to ``10**hi``.
    n_scales
        ``ipywidgets.IntSlider``: how many log-spaced scales.
    dtype
        ``ipywidgets.ToggleButtons``: ``float32`` or ``float64``.
    sign
        ``ipywidgets.ToggleButtons``: ``+1`` (overflow) or ``-1`` (underflow).
    metric
        ``ipywidgets.Dropdown``: the error plotted.
    run_button, image, table, widget, frame
        The Run button, the plot, the frame as a table, the whole VBox, and
        the latest :func:`~fugue_lab.diagnostics.precision.precision_sweep` frame.
    """

    def __init__(self, function: str, dtype: str, log10_range: tuple[int, int], n: int) -> None:
        w = ipywidgets(_FEATURE)
        self._families = _families()
        self.function = w.Dropdown(options=list(self._families), value=function,
                                   description="function")  # fmt: skip
        self.log10_scales = w.IntRangeSlider(value=log10_range, min=-300, max=300, step=1,
                                             description="log10 scale")  # fmt: skip
        self.n_scales = w.IntSlider(n, min=2, max=200, description="scales")
        self.dtype = w.ToggleButtons(options=["float64", "float32"], value=dtype,
                                     description="dtype")  # fmt: skip
        self.sign = w.ToggleButtons(options=[("+ (overflow)", 1), ("- (underflow)", -1)],
                                    value=1, description="inputs")  # fmt: skip
        self.metric = w.Dropdown(options=["ulp_error", "rel_error", "abs_error"],
                                 value="ulp_error", description="error")  # fmt: skip
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.image = w.Image(format="png")
        self.table = w.HTML("")
        self.run_button.on_click(lambda _button: self.run())
        controls = w.VBox([self.function, self.log10_scales, self.n_scales, self.dtype,
                           self.sign, self.metric])  # fmt: skip
        self.widget = w.VBox([controls, self.run_button, self.image, self.table])
        self.frame: pd.DataFrame | None = None

    def scales(self) -> np.ndarray:
        """The scales the sliders select: ``n_scales`` log-spaced values."""
        lo, hi = self.log10_scales.value
        return np.logspace(lo, hi, self.n_scales.value)

    def run(self) -> pd.DataFrame:
        """Sweep the chosen function (and its naive counterpart) and update the output."""
        frame = precision_sweep(
            self._families[self.function.value], scales=self.scales(),
            dtypes=[self.dtype.value], sign=self.sign.value, min_time_s=5e-5,
        )  # fmt: skip
        self.frame = frame
        fig = new_figure(_FEATURE, width=7.0)
        plot_precision_sweep(frame, ax=fig.axes[0], dtype=self.dtype.value,
                             metric=self.metric.value)  # fmt: skip
        self.image.value = png_bytes(fig)
        self.table.value = frame[_SHOWN].to_html(
            float_format=lambda v: f"{v:.6g}", index=False, border=0
        )
        return frame

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def precision_explorer(
    function: str = "log_sum_exp",
    dtype: str = "float64",
    log10_range: tuple[int, int] = (-300, 300),
    n_scales: int = 25,
) -> PrecisionExplorer:
    """A widget to sweep one numerical function (and its naive version) over scales.

    Parameters
    ----------
    function
        The initial stable function (see
        :func:`~fugue_lab.diagnostics.precision.available_functions`).
    dtype
        The initial dtype, ``"float64"`` or ``"float32"``.
    log10_range
        The initial range of ``log10(scale)``, within [-300, 300].
    n_scales
        The initial number of scales.

    Returns
    -------
    PrecisionExplorer
        Displays as the widget; drive it from code by setting ``.function.value``,
        ``.log10_scales.value``, ``.dtype.value`` and clicking ``.run_button``,
        then read ``.frame``.

    Raises
    ------
    MissingExtraError
        If ipywidgets is not installed (``pip install 'fugue_lab[lab]'``).
    InvalidParameterError
        If ``function`` or ``dtype`` is not one of the choices.

    Examples
    --------
    >>> explorer = precision_explorer("log1p_exp", log10_range=(-5, 5), n_scales=3)
    >>> explorer.function.value, explorer.frame is None
    ('log1p_exp', True)
    >>> explorer.scales()
    array([1.e-05, 1.e+00, 1.e+05])
    """
    from fugue_lab.errors import InvalidParameterError

    ipywidgets(_FEATURE)
    families = _families()
    if function not in families:
        raise InvalidParameterError(_FEATURE, "function", function, f"one of {list(families)}")
    if dtype not in ("float32", "float64"):
        raise InvalidParameterError(_FEATURE, "dtype", dtype, "'float32' or 'float64'")
    lo, hi = log10_range
    if not -300 <= lo <= hi <= 300:
        raise InvalidParameterError(
            _FEATURE, "log10_range", log10_range, "(lo, hi) with -300 <= lo <= hi <= 300"
        )
    return PrecisionExplorer(function, dtype, (int(lo), int(hi)), n_scales)
