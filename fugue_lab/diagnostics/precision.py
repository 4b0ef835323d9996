"""Precision sweeps: the log-space functions against a 50-digit reference, scale by scale.

:func:`precision_sweep` evaluates each numerical function (the stable ones in
:mod:`fugue_lab.core.numerical` and their textbook ``naive_*`` counterparts)
on inputs whose magnitude is set by a *scale* from 1e-300 to 1e300, in
float32 and float64, and compares the answer with mpmath at 50 significant
digits. The frame it returns is what :func:`~fugue_lab.diagnostics.plots.plot_precision_sweep`
draws: the naive functions overflow or underflow exactly where the stable ones
stay within a few ulp, which is the guide's "Log Always" pattern in one picture.

The inputs
----------
For a scale ``s``, a sign ``σ`` (``sign=+1`` by default) and a dtype ``d``
(every value is cast to ``d`` first, and the reference is computed from the
*cast* values, so the error measures the function, not the cast):

========================  ==========================================================
function                  input
========================  ==========================================================
log_sum_exp               ``x = d(σ s [1, 0.5, 0.25])``
weighted_log_sum_exp      the same ``x``, ``weights = d([0.2, 0.3, 0.5])``
normalize_log_probs       the same ``x``; ``value`` is the first output element
log1p_exp                 the scalar ``x = d(σ s)``
safe_ln                   the scalar ``x = d(s)`` (its domain is ``x > 0``; σ is ignored)
log_gamma                 the scalar ``x = d(s)`` (σ is ignored)
========================  ==========================================================

With ``σ = +1`` the log-space inputs are large and positive, and the naive
formulas overflow to ``inf`` (``exp(x)`` for ``x > 709`` in float64, ``x > 88``
in float32); with ``σ = -1`` they are large and negative, as log-weights in
inference are, and the naive formulas underflow (``log(0) = -inf``, or
``log1p_exp`` rounding to 0).

``naive_<name>`` gets exactly the input of ``<name>``. The naive functions are
those of :mod:`fugue_lab.core.naive_numerical` (``log(sum(exp(x)))`` and so on).

Errors
------
``abs_error = |value - reference|`` and ``rel_error = abs_error / |reference|``
are exact (computed in mpmath) and then rounded to float64. ``ulp_error`` is
``abs_error`` in units of the spacing of ``d`` at the reference rounded to
``d`` (so 0.5 is a correctly rounded answer). When the reference is finite and
the value is not (an overflow to ``inf``, a NaN, or an exception), every error
is ``inf``; when the reference is infinite, the errors are 0 if the value is
the same infinity and ``inf`` otherwise; when the reference is NaN (the input
has no answer), they are NaN.

Examples
--------
>>> import numpy as np
>>> frame = precision_sweep(["log_sum_exp", "naive_log_sum_exp"], scales=[1e3],
...                         dtypes=[np.float64], min_time_s=0.0)
>>> frame[["function", "scale", "value", "ulp_error"]]
            function   scale   value  ulp_error
0        log_sum_exp  1000.0  1000.0        0.0
1  naive_log_sum_exp  1000.0     inf        inf
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from fugue_lab.core import numerical
from fugue_lab.diagnostics._deps import pandas
from fugue_lab.errors import FugueLabError, InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_SCALES",
    "PRECISION_COLUMNS",
    "available_functions",
    "precision_sweep",
]

#: Scales from 1e-300 to 1e300, dense where float32 and float64 overflow (88, 709).
DEFAULT_SCALES: tuple[float, ...] = (
    1e-300, 1e-200, 1e-100, 1e-50, 1e-30, 1e-20, 1e-10, 1e-5, 1e-2, 1e-1, 1.0, 1e1,
    5e1, 1e2, 3e2, 1e3, 1e4, 1e10, 1e20, 1e30, 1e50, 1e100, 1e200, 1e300,
)  # fmt: skip

#: The frame's columns, in order.
PRECISION_COLUMNS: tuple[str, ...] = (
    "function",
    "family",
    "variant",
    "scale",
    "dtype",
    "input_in_range",
    "value",
    "reference",
    "abs_error",
    "rel_error",
    "ulp_error",
    "seconds_per_call",
    "exception",
)

_DPS = 50
_VECTOR = (1.0, 0.5, 0.25)
_WEIGHTS = (0.2, 0.3, 0.5)
_DTYPES = {"float32": np.float32, "float64": np.float64}


@dataclass(frozen=True)
class _Spec:
    """How to feed one function family and what its exact answer is."""

    make_args: Callable[[float, int, type], tuple[Any, ...]]
    reference: Callable[..., Any]  # mpmath, on the cast arguments
    span: tuple[float, float]  # the smallest and largest |input| / scale (input_in_range)
    first_element: bool = False


def _vector_args(s: float, sign: int, dtype: type) -> tuple[Any, ...]:
    return (np.array([sign * c * s for c in _VECTOR], dtype=dtype),)


def _weighted_args(s: float, sign: int, dtype: type) -> tuple[Any, ...]:
    return (*_vector_args(s, sign, dtype), np.array(_WEIGHTS, dtype=dtype))


def _signed_scalar_args(s: float, sign: int, dtype: type) -> tuple[Any, ...]:
    return (dtype(sign * s),)


def _scalar_args(s: float, sign: int, dtype: type) -> tuple[Any, ...]:
    return (dtype(s),)


def _mp(values: Any) -> list[Any]:
    import mpmath as mp

    return [mp.mpf(float(v)) for v in np.atleast_1d(values)]


def _mp_lse_terms(xs: list[Any], ws: list[Any]) -> Any:
    """log(sum w_i exp(x_i)) without cancellation: max-shift, or log1p near a result of 0."""
    import mpmath as mp

    if any(mp.isnan(x) for x in xs):
        return mp.nan
    if any(x == mp.inf for x, w in zip(xs, ws) if w > 0):
        return mp.inf
    pairs = [(x, w) for x, w in zip(xs, ws) if w > 0 and x != mp.ninf]
    if not pairs:
        return mp.ninf
    if all(abs(x) < 1 for x, _ in pairs):
        # Near 0: log1p(t) with t = sum w (exp(x) - 1) + (sum w - 1), every term small.
        t = mp.fsum(w * mp.expm1(x) for x, w in pairs) + (mp.fsum(w for _, w in pairs) - 1)
        return mp.log1p(t)
    m = max(range(len(pairs)), key=lambda i: pairs[i][0] + mp.log(pairs[i][1]))
    x_m, w_m = pairs[m]
    rest = mp.fsum((w / w_m) * mp.exp(x - x_m) for i, (x, w) in enumerate(pairs) if i != m)
    return mp.log(w_m) + x_m + mp.log1p(rest)


def _mp_lse(x: np.ndarray) -> Any:
    xs = _mp(x)
    return _mp_lse_terms(xs, [1] * len(xs))


def _mp_wlse(x: np.ndarray, w: np.ndarray) -> Any:
    return _mp_lse_terms(_mp(x), _mp(w))


def _mp_normalize(x: np.ndarray) -> Any:
    import mpmath as mp

    xs = _mp(x)
    if any(mp.isinf(v) or mp.isnan(v) for v in xs):
        return mp.nan  # normalising infinite log-weights has no answer
    # x_0 - log(sum exp(x_i)) = -log(sum exp(x_i - x_0)), with exact differences
    return -_mp_lse_terms([v - xs[0] for v in xs], [1] * len(xs))


def _mp_log1p_exp(x: Any) -> Any:
    import mpmath as mp

    v = mp.mpf(float(x))
    if mp.isinf(v):
        return v if v > 0 else mp.mpf(0)
    return mp.log1p(mp.exp(v))


def _mp_safe_ln(x: Any) -> Any:
    import mpmath as mp

    v = mp.mpf(float(x))
    return mp.log(v) if v > 0 else mp.ninf


def _mp_log_gamma(x: Any) -> Any:
    import mpmath as mp

    v = mp.mpf(float(x))
    if v > 0:
        return mp.loggamma(v)
    if v == mp.floor(v):  # a pole: 0 or a negative integer
        return mp.inf
    return mp.log(abs(mp.gamma(v)))


_SPECS: dict[str, _Spec] = {
    "log_sum_exp": _Spec(_vector_args, _mp_lse, (0.25, 1.0)),
    "weighted_log_sum_exp": _Spec(_weighted_args, _mp_wlse, (0.25, 1.0)),
    "normalize_log_probs": _Spec(_vector_args, _mp_normalize, (0.25, 1.0), first_element=True),
    "log1p_exp": _Spec(_signed_scalar_args, _mp_log1p_exp, (1.0, 1.0)),
    "safe_ln": _Spec(_scalar_args, _mp_safe_ln, (1.0, 1.0)),
    "log_gamma": _Spec(_scalar_args, _mp_log_gamma, (1.0, 1.0)),
}


#: The naive counterpart of a stable function, where it is not simply ``naive_<name>``.
_NAIVE_NAMES = {"safe_ln": "naive_ln"}


def _naive_module() -> Any:
    try:
        from fugue_lab.core import naive_numerical
    except ImportError:  # pragma: no cover - the module ships with the package
        return None
    return naive_numerical


def _registry() -> dict[str, tuple[str, str, Callable[..., Any]]]:
    """name -> (family, variant, function) for every function available."""
    out: dict[str, tuple[str, str, Callable[..., Any]]] = {}
    naive = _naive_module()
    for family in _SPECS:
        stable = getattr(numerical, family, None)
        if stable is not None:
            out[family] = (family, "stable", stable)
    for family in _SPECS:
        name = _NAIVE_NAMES.get(family, f"naive_{family}")
        fn = getattr(naive, name, None) if naive is not None else None
        if fn is not None:
            out[name] = (family, "naive", fn)
    return out


def available_functions() -> list[str]:
    """The function names :func:`precision_sweep` accepts (stable first, then naive).

    Examples
    --------
    >>> "log_sum_exp" in available_functions()
    True
    """
    return list(_registry())


def _check_functions(functions: Iterable[str] | str | None, known: Sequence[str]) -> list[str]:
    if functions is None:
        return list(known)
    names = [functions] if isinstance(functions, str) else list(functions)
    if not names:
        raise InvalidParameterError(
            "precision_sweep", "functions", names, f"a non-empty list of {sorted(known)}"
        )
    for name in names:
        if name not in known:
            raise InvalidParameterError(
                "precision_sweep", "functions", name, f"one of {sorted(known)}"
            )
    return names


def _check_scales(scales: Iterable[float] | None) -> list[float]:
    if scales is None:
        return list(DEFAULT_SCALES)
    items = [scales] if isinstance(scales, (int, float)) else list(scales)
    out: list[float] = []
    for s in items:
        try:
            value = float(s)
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise InvalidParameterError(
                "precision_sweep", "scales", s, "finite numbers > 0 (e.g. 1e-300 ... 1e300)"
            )
        out.append(value)
    if not out:
        raise InvalidParameterError("precision_sweep", "scales", [], "a non-empty list")
    return out


def _check_dtypes(dtypes: Iterable[DTypeLike]) -> list[type]:
    out: list[type] = []
    items = [dtypes] if isinstance(dtypes, (str, type, np.dtype)) else list(dtypes)
    for d in items:
        try:
            name = np.dtype(d).name
        except TypeError:
            name = None
        if name not in _DTYPES:
            raise InvalidParameterError("precision_sweep", "dtypes", d, "float32 or float64")
        out.append(_DTYPES[name])
    if not out:
        raise InvalidParameterError("precision_sweep", "dtypes", items, "a non-empty list")
    return out


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def _seconds_per_call(fn: Callable[..., Any], args: tuple[Any, ...], min_time_s: float) -> float:
    """Best of three timings of a loop that runs for at least ``min_time_s``."""
    if min_time_s <= 0:
        return math.nan
    number = 1
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        while True:  # grow the loop until one timing takes min_time_s
            t0 = time.perf_counter()
            for _ in range(number):
                fn(*args)
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time_s or number >= 1 << 20:
                break
            number *= 2
        best = elapsed
        for _ in range(2):
            t0 = time.perf_counter()
            for _ in range(number):
                fn(*args)
            best = min(best, time.perf_counter() - t0)
    return best / number


def _errors(value: float, ref: Any, dtype: type) -> tuple[float, float, float]:
    """(abs_error, rel_error, ulp_error) of ``value`` against the mpmath ``ref``."""
    import mpmath as mp

    if mp.isnan(ref):
        return math.nan, math.nan, math.nan
    if mp.isinf(ref):
        same = math.isinf(value) and (value > 0) == (ref > 0)
        return (0.0, 0.0, 0.0) if same else (math.inf, math.inf, math.inf)
    if not math.isfinite(value):
        return math.inf, math.inf, math.inf
    diff = abs(mp.mpf(value) - ref)
    abs_error = float(diff)
    rel_error = float(diff / abs(ref)) if ref != 0 else (0.0 if diff == 0 else math.inf)
    with np.errstate(all="ignore"):
        rounded = dtype(float(ref))
    if not np.isfinite(rounded):  # the exact answer is beyond the dtype's range
        return abs_error, rel_error, math.inf
    spacing = abs(float(np.spacing(rounded)))
    return abs_error, rel_error, float(diff / mp.mpf(spacing))


def precision_sweep(
    functions: Iterable[str] | str | None = None,
    scales: Iterable[float] | None = None,
    dtypes: Iterable[DTypeLike] = (np.float32, np.float64),
    *,
    sign: int = 1,
    min_time_s: float = 2e-4,
) -> pd.DataFrame:
    """Evaluate numerical functions over scales and dtypes against a 50-digit reference.

    Parameters
    ----------
    functions
        Names from :func:`available_functions`: ``log_sum_exp``,
        ``weighted_log_sum_exp``, ``normalize_log_probs``, ``log1p_exp``,
        ``safe_ln``, ``log_gamma`` and their ``naive_*`` counterparts. None
        means all of them.
    scales
        Positive scales (see the module docstring for the input each function
        gets at each scale). None means :data:`DEFAULT_SCALES`, 1e-300 to 1e300.
    dtypes
        ``float32`` and/or ``float64``: the dtype the inputs are cast to.
    sign
        ``+1`` (large positive log-space inputs: the naive formulas overflow)
        or ``-1`` (large negative ones: they underflow); see the module docstring.
    min_time_s
        Each timing loop runs at least this long (best of three loops). 0
        skips timing (``seconds_per_call`` is NaN).

    Returns
    -------
    pandas.DataFrame
        One row per (function, scale, dtype), in that nesting order, with the
        columns of :data:`PRECISION_COLUMNS`: ``function``; ``family`` (the
        stable name for both variants) and ``variant`` (``"stable"`` or
        ``"naive"``); ``scale``; ``dtype`` (``"float32"``/``"float64"``);
        ``input_in_range`` (False when casting the inputs to the dtype
        overflowed to ``inf`` or fell below its smallest normal number);
        ``value`` (the function's answer as a float); ``reference`` (mpmath,
        rounded to float64); ``abs_error``, ``rel_error``, ``ulp_error`` (see
        the module docstring); ``seconds_per_call``; ``exception`` (the class
        name of what the call raised, else ``""``).

    Raises
    ------
    InvalidParameterError
        For an unknown function name, a scale that is not a finite number
        > 0, a dtype other than float32/float64, a sign other than +1/-1, or an
        empty list.

    Examples
    --------
    >>> frame = precision_sweep(["log1p_exp"], scales=[1e-300, 1e300], dtypes=["float64"],
    ...                         min_time_s=0)
    >>> bool(frame["ulp_error"].max() <= 2)
    True
    """
    import mpmath as mp

    pd = pandas("precision_sweep")
    registry = _registry()
    names = _check_functions(functions, list(registry))
    scale_list = _check_scales(scales)
    dtype_list = _check_dtypes(dtypes)
    if sign not in (1, -1) or isinstance(sign, bool):
        raise InvalidParameterError("precision_sweep", "sign", sign, "+1 or -1")
    if not (isinstance(min_time_s, (int, float)) and math.isfinite(min_time_s) and min_time_s >= 0):
        raise InvalidParameterError("precision_sweep", "min_time_s", min_time_s, "a number >= 0")

    rows: list[dict[str, Any]] = []
    with mp.workdps(_DPS):
        for name in names:
            family, variant, fn = registry[name]
            spec = _SPECS[family]
            for s in scale_list:
                for dtype in dtype_list:
                    info = np.finfo(dtype)
                    in_range = bool(
                        s * spec.span[1] <= float(info.max) and s * spec.span[0] >= info.tiny
                    )
                    with np.errstate(all="ignore"):
                        args = spec.make_args(s, sign, dtype)
                    ref = spec.reference(*args)
                    exception = ""
                    try:
                        out = _call(fn, args)
                        if spec.first_element:
                            out = np.asarray(out).reshape(-1)[0]
                        value = float(out)
                    except (FugueLabError, ArithmeticError, ValueError) as exc:
                        value, exception = math.nan, type(exc).__name__
                    abs_error, rel_error, ulp_error = _errors(value, ref, dtype)
                    seconds = (
                        _seconds_per_call(fn, args, min_time_s) if not exception else math.nan
                    )
                    rows.append(
                        {
                            "function": name,
                            "family": family,
                            "variant": variant,
                            "scale": s,
                            "dtype": np.dtype(dtype).name,
                            "input_in_range": in_range,
                            "value": value,
                            "reference": float(ref),
                            "abs_error": abs_error,
                            "rel_error": rel_error,
                            "ulp_error": ulp_error,
                            "seconds_per_call": seconds,
                            "exception": exception,
                        }
                    )
    return pd.DataFrame(rows, columns=list(PRECISION_COLUMNS))
