"""Jupyter widgets (the ``lab`` extra): a pool tuner and a precision explorer.

ipywidgets is imported when a widget is created, not when this package is
imported; without it, creating a widget raises
:class:`~fugue_lab.errors.MissingExtraError` naming the extra to install.

Examples
--------
>>> from fugue_lab.widgets import precision_explorer
>>> explorer = precision_explorer(n_scales=5)
>>> explorer.run_button.click()
>>> len(explorer.frame)
10
"""

from fugue_lab.widgets.pool_tuner import PoolTuner, pool_tuner
from fugue_lab.widgets.precision_explorer import PrecisionExplorer, precision_explorer

__all__ = ["PoolTuner", "PrecisionExplorer", "pool_tuner", "precision_explorer"]
