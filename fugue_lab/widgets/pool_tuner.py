"""pool_tuner: sliders for pool size, workers and batch size; a Run button; results in place.

Examples
--------
>>> from fugue_lab import Normal, sample
>>> def model():
...     return sample("x", Normal(0.0, 1.0))
>>> tuner = pool_tuner(model, pool_size=2, workers=1, batch_size=8, n_batches=4)
>>> tuner.run_button.click()
>>> int(tuner.frame["suggested_pool_size"].iloc[0])
8
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fugue_lab.diagnostics._deps import ArgumentTypeError, pandas
from fugue_lab.diagnostics.plots import plot_pool
from fugue_lab.diagnostics.pooling import PoolTrial, pool_trial
from fugue_lab.widgets._common import ipywidgets, new_figure, png_bytes

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PoolTuner", "pool_tuner"]

_FEATURE = "pool_tuner"
_SHOWN = [
    "pool_size", "workers", "batch_size", "n_runs", "hit_ratio", "hits", "misses", "drops",
    "peak_in_use", "suggested_pool_size", "latency_p50_us", "latency_p90_us", "latency_p99_us",
    "runs_per_s",
]  # fmt: skip


class PoolTuner:
    """The pool tuner's widgets and its latest results (see :func:`pool_tuner`).

    Attributes
    ----------
    pool_size, workers, batch_size, n_batches
        ``ipywidgets.IntSlider`` controls.
    run_button
        ``ipywidgets.Button``; clicking it (or :meth:`run`) runs a trial.
    suggestion, table
        ``ipywidgets.HTML``: the suggested pool size, and the trials so far.
    image
        ``ipywidgets.Image``: the pool and latency plot of the latest trial.
    widget
        The whole ``ipywidgets.VBox`` (what a notebook displays).
    frame
        The latest trial's one-row statistics frame (None before the first run).
    history
        Every trial's statistics row, one row per run (a DataFrame).
    trial
        The latest :class:`~fugue_lab.diagnostics.pooling.PoolTrial`.
    """

    def __init__(
        self,
        model: Callable[..., Any],
        args: Sequence[Any],
        kwargs: Mapping[str, Any] | None,
        *,
        pool_size: int,
        workers: int,
        batch_size: int,
        n_batches: int,
        seed: int,
    ) -> None:
        w = ipywidgets(_FEATURE)
        self.model, self.args, self.kwargs, self.seed = model, tuple(args), dict(kwargs or {}), seed
        style = {"description_width": "110px"}
        self.pool_size = w.IntSlider(pool_size, min=1, max=max(256, pool_size),
                                     description="pool size", style=style)  # fmt: skip
        self.workers = w.IntSlider(workers, min=1, max=max(16, workers),
                                   description="workers", style=style)  # fmt: skip
        self.batch_size = w.IntSlider(batch_size, min=1, max=max(256, batch_size),
                                      description="batch size", style=style)  # fmt: skip
        self.n_batches = w.IntSlider(n_batches, min=1, max=max(256, n_batches),
                                     description="batches", style=style)  # fmt: skip
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.suggestion = w.HTML("")
        self.table = w.HTML("")
        self.image = w.Image(format="png")
        self.run_button.on_click(lambda _button: self.run())
        controls = w.VBox([self.pool_size, self.workers, self.batch_size, self.n_batches])
        self.widget = w.VBox([controls, self.run_button, self.suggestion, self.table, self.image])
        self.frame: pd.DataFrame | None = None
        self.trial: PoolTrial | None = None
        self._rows: list[dict[str, Any]] = []

    @property
    def history(self) -> pd.DataFrame:
        """One row per trial run so far (the columns of ``PoolTrial.stats``)."""
        return pandas(_FEATURE).DataFrame(self._rows)

    def run(self) -> pd.DataFrame:
        """Run one trial with the sliders' values and update the output in place."""
        trial = pool_trial(
            self.model, self.args, self.kwargs,
            pool_size=self.pool_size.value, workers=self.workers.value,
            batch_size=self.batch_size.value, n_batches=self.n_batches.value, seed=self.seed,
        )  # fmt: skip
        self.trial = trial
        self.frame = trial.stats
        row = trial.stats.iloc[0]
        self._rows.append(trial.stats.to_dict("records")[0])
        suggested = int(row["suggested_pool_size"])
        verdict = (
            "large enough: no drops" if int(row["drops"]) == 0
            else f"too small: {int(row['drops'])} traces dropped"
        )  # fmt: skip
        self.suggestion.value = (
            f"<b>Suggested pool size: {suggested}</b> (peak in use {int(row['peak_in_use'])}; "
            f"pool of {int(row['pool_size'])} is {verdict}; hit ratio "
            f"{row['hit_ratio']:.3f}). Pre-warm it with <code>pool.prewarm()</code>."
        )
        self.table.value = self.history[_SHOWN].to_html(
            float_format=lambda v: f"{v:.4g}", index=False, border=0
        )
        fig = new_figure(_FEATURE, ncols=2, width=5.0)
        pool_ax, latency_ax = fig.axes
        plot_pool(trial.pool, ax=pool_ax)
        latency_ax.hist(trial.latency["latency_us"], bins=40, color="C0")
        for q, ls in ((50, "--"), (99, ":")):
            value = float(row[f"latency_p{q}_us"])
            latency_ax.axvline(value, color="k", ls=ls, lw=0.8, label=f"p{q} {value:.3g} us")
        latency_ax.set_xlabel("latency_us per run")
        latency_ax.set_ylabel("runs")
        latency_ax.legend(loc="best")
        self.image.value = png_bytes(fig)
        return trial.stats

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def pool_tuner(
    model: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    pool_size: int = 16,
    workers: int = 2,
    batch_size: int = 16,
    n_batches: int = 16,
    seed: int = 0,
) -> PoolTuner:
    """A widget to size a TracePool: sliders, a Run button, statistics and a plot.

    Each run executes ``n_batches`` batches of ``batch_size`` prior runs of the
    model on ``workers`` threads sharing one pool of ``pool_size``
    (:func:`~fugue_lab.diagnostics.pooling.pool_trial`), then shows the hit
    ratio, drops, peak in use, latency percentiles, the suggested pool size
    (the peak in use) and a plot, replacing the previous ones.

    Parameters
    ----------
    model, args, kwargs
        The model and its arguments.
    pool_size, workers, batch_size, n_batches
        The sliders' initial values (ints >= 1).
    seed
        The random seed of every trial.

    Returns
    -------
    PoolTuner
        Displays as the widget in a notebook; drive it from code with
        ``tuner.pool_size.value = 32; tuner.run_button.click()`` and read
        ``tuner.frame``.

    Raises
    ------
    MissingExtraError
        If ipywidgets is not installed (``pip install 'fugue_lab[lab]'``).
    ArgumentTypeError
        If ``model`` is not callable.

    Examples
    --------
    >>> from fugue_lab import Normal, sample
    >>> def model():
    ...     return sample("x", Normal(0.0, 1.0))
    >>> tuner = pool_tuner(model, pool_size=2, workers=1, batch_size=4, n_batches=3)
    >>> tuner.frame is None, type(tuner.widget).__name__
    (True, 'VBox')
    >>> tuner.pool_size.value = 4
    >>> int(tuner.run()["drops"].iloc[0]), len(tuner.history)
    (0, 1)
    """
    if not callable(model):
        raise ArgumentTypeError(_FEATURE, "model", model, "a callable model")
    return PoolTuner(
        model, args, kwargs, pool_size=pool_size, workers=workers, batch_size=batch_size,
        n_batches=n_batches, seed=seed,
    )  # fmt: skip
