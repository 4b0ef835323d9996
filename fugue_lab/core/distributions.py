"""Validated probability distributions with a fast scalar path and a NumPy-vectorized path.

Every distribution validates its parameters when it is built and then offers two ways to
score and draw:

* the **scalar path**: Python-number parameters and a Python-number value give a Python
  ``float`` log-density computed with the :mod:`math` module only (no NumPy call), with the
  normalising constants precomputed in ``__init__``. This is the hot path of a model that
  is run one trace at a time.
* the **array path**: any NumPy array (a value, a parameter, or both) gives an
  :class:`numpy.ndarray` under NumPy broadcasting. This is the path of vectorized
  likelihoods (``observe("y", Normal(mu, sigma), ys)``) and of batched runs.

Conventions shared by every distribution:

* a numeric value outside the support scores ``-inf``; a NaN value scores NaN; a value of a
  non-numeric kind (a string, ``None``...) raises
  :class:`~fugue_lab.errors.InvalidObservationError`;
* densities are exact in the tails (no cut-offs) and follow scipy.stats at support
  boundaries (``Beta(0.5, 2).log_prob(0.0)`` is ``+inf``, ``Exponential(2).log_prob(0.0)``
  is ``log 2``);
* float32 values and float32 parameter arrays give float32 log-densities; Python-number
  parameters never upcast a float32 array;
* parameter arrays are used as given (not copied): do not mutate them afterwards.

Examples
--------
>>> import numpy as np
>>> from fugue_lab.core.distributions import Normal, Poisson
>>> d = Normal(0.0, 1.0)
>>> round(d.log_prob(0.5), 6)
-1.043939
>>> d.log_prob(np.array([0.0, 40.0])).round(3)
array([  -0.919, -800.919])
>>> Poisson(3.0).log_prob(2.5)
-inf
"""

from __future__ import annotations

import bisect
import math
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import special as sc

from fugue_lab.errors import InvalidObservationError, InvalidParameterError

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "ChiSquared",
    "DiscreteUniform",
    "Distribution",
    "Exponential",
    "Gamma",
    "InverseGamma",
    "Laplace",
    "LogNormal",
    "Normal",
    "Poisson",
    "StudentT",
    "Support",
    "Uniform",
    "Weibull",
]

_INF = math.inf
_NINF = -math.inf
_NAN = math.nan
_LOG_2PI = math.log(2.0 * math.pi)
_HALF_LOG_2PI = 0.5 * _LOG_2PI
_LOG_PI = math.log(math.pi)
_LOG_2 = math.log(2.0)
_EXP_OVERFLOW = 709.782712893384  # math.exp(t) overflows for t above this

# ---------------------------------------------------------------------------------------------
# Support
# ---------------------------------------------------------------------------------------------

_SUPPORT_KINDS = (
    "real",
    "positive",
    "nonnegative",
    "interval",
    "boolean",
    "integer",
    "categorical",
)


@dataclass(frozen=True, slots=True)
class Support:
    """The set of values a distribution can produce.

    Inference code reads ``kind`` to choose a proposal: ``"real"`` a random walk,
    ``"positive"`` a walk in log space, ``"interval"`` a reflected walk, ``"boolean"`` a flip,
    ``"integer"`` a symmetric integer step, ``"categorical"`` a resample.

    Attributes
    ----------
    kind
        ``"real"`` (-inf, inf); ``"positive"`` (0, inf), open at 0; ``"nonnegative"``
        [0, inf); ``"interval"`` [low, high]; ``"boolean"`` {False, True};
        ``"integer"`` the integers in [low, high] (high may be inf);
        ``"categorical"`` the integers 0 .. high (low is 0).
    low, high
        The bounds, as floats (arrays for a batch whose bounds differ by element).

    Notes
    -----
    The support says where values live, not where the density is finite at a boundary:
    ``Exponential(1.0).log_prob(0.0)`` is finite (as in scipy.stats) while 0 is not in the
    ``"positive"`` support, which is open at 0 so that a log-space walk is always defined.

    Examples
    --------
    >>> Support("positive", 0.0, float("inf")).contains(2.0)
    True
    >>> Support("integer", 0.0, 5.0).contains([0, 2.5, 6])
    array([ True, False, False])
    """

    kind: str
    low: float
    high: float

    def __post_init__(self) -> None:
        if self.kind not in _SUPPORT_KINDS:
            raise ValueError(f"Support: kind must be one of {_SUPPORT_KINDS}, got {self.kind!r}")

    def contains(self, x: ArrayLike) -> bool | np.ndarray:
        """Whether ``x`` lies in the support (elementwise for arrays; False for NaN)."""
        scalar = isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, np.ndarray)
        bounds_are_arrays = isinstance(self.low, np.ndarray) or isinstance(self.high, np.ndarray)
        if scalar and not bounds_are_arrays:
            try:
                v = float(x)
            except OverflowError:
                v = _INF if x > 0 else _NINF
            return _contains_scalar(self.kind, self.low, self.high, v)
        if scalar:
            arr = np.asarray(float(x))
        else:
            if isinstance(x, (str, bytes)) or x is None:
                return False
            arr = np.asarray(x)
            if arr.dtype.kind not in "biuf":
                return np.zeros(arr.shape, dtype=bool)
            arr = arr.astype(np.float64, copy=False)
        return _contains_array(self.kind, self.low, self.high, arr)


_REAL = Support("real", _NINF, _INF)
_POSITIVE = Support("positive", 0.0, _INF)
_UNIT_INTERVAL = Support("interval", 0.0, 1.0)
_BOOLEAN = Support("boolean", 0.0, 1.0)
_COUNTS = Support("integer", 0.0, _INF)


def _contains_scalar(kind: str, low: float, high: float, v: float) -> bool:
    if kind == "real":
        return _NINF < v < _INF
    if kind == "positive":
        return 0.0 < v < _INF
    if kind == "nonnegative":
        return 0.0 <= v < _INF
    if kind == "interval":
        return low <= v <= high
    if kind == "boolean":
        return v == 0.0 or v == 1.0
    return v.is_integer() and low <= v <= high


def _contains_array(kind: str, low: Any, high: Any, v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if kind == "real":
            return np.isfinite(v)
        if kind == "positive":
            return (v > 0.0) & (v < _INF)
        if kind == "nonnegative":
            return (v >= 0.0) & (v < _INF)
        if kind == "interval":
            return (v >= low) & (v <= high)
        if kind == "boolean":
            return (v == 0.0) | (v == 1.0)
        return np.isfinite(v) & (np.floor(v) == v) & (v >= low) & (v <= high)


# ---------------------------------------------------------------------------------------------
# Parameter coercion and validation
# ---------------------------------------------------------------------------------------------


def _type_error(owner: str, name: str, value: object, what: str) -> TypeError:
    return TypeError(f"{owner}: {name} must be {what}, got {type(value).__name__} {value!r}")


def _param(owner: str, name: str, value: Any) -> float | np.ndarray:
    """Coerce a real parameter to a Python float or a float32/float64 array (not validated)."""
    t = type(value)
    if t is float:
        return value
    if t is bool or isinstance(value, np.bool_):
        raise _type_error(owner, name, value, "a real number or an array of real numbers")
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return float(value)
        except OverflowError:
            return _INF if value > 0 else _NINF
    if isinstance(value, (np.ndarray, list, tuple)) or hasattr(value, "__array__"):
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            raise _type_error(
                owner, name, value, "a real number or an array of real numbers"
            ) from None
        kind = arr.dtype.kind
        if kind == "f":
            if arr.dtype != np.float64 and arr.dtype != np.float32:
                arr = arr.astype(np.float32 if arr.dtype.itemsize < 4 else np.float64)
        elif kind in "iu":
            arr = arr.astype(np.float64)
        else:
            raise _type_error(owner, name, value, "a real number or an array of real numbers")
        if arr.ndim == 0:
            return float(arr)
        return arr
    if isinstance(value, numbers.Real):
        return float(value)
    raise _type_error(owner, name, value, "a real number or an array of real numbers")


def _int_param(owner: str, name: str, value: Any) -> int | np.ndarray:
    """Coerce an integer parameter to a Python int or an int64 array (integral floats accepted)."""
    t = type(value)
    if t is int:
        return value
    if t is bool or isinstance(value, np.bool_):
        raise _type_error(owner, name, value, "an integer or an array of integers")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not (math.isfinite(f) and f.is_integer()):
            raise InvalidParameterError(owner, name, value, "an integer")
        return int(f)
    if isinstance(value, (np.ndarray, list, tuple)) or hasattr(value, "__array__"):
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            raise _type_error(owner, name, value, "an integer or an array of integers") from None
        kind = arr.dtype.kind
        if kind == "f":
            with np.errstate(invalid="ignore"):
                bad = ~(np.isfinite(arr) & (np.floor(arr) == arr))
            if bad.any():
                _raise_at(owner, name, arr, bad, "an integer")
        elif kind not in "iu":
            raise _type_error(owner, name, value, "an integer or an array of integers")
        arr = arr.astype(np.int64)
        if arr.ndim == 0:
            return int(arr)
        return arr
    if isinstance(value, numbers.Integral):
        return int(value)
    raise _type_error(owner, name, value, "an integer or an array of integers")


def _raise_at(owner: str, name: str, value: Any, bad: np.ndarray, expected: str) -> None:
    """Raise InvalidParameterError for the first element of ``value`` flagged in ``bad``."""
    idx = np.unravel_index(int(np.argmax(bad)), bad.shape)
    arr = np.broadcast_to(value, bad.shape)
    label = f"{name}[{', '.join(str(int(i)) for i in idx)}]"
    raise InvalidParameterError(owner, label, arr[idx].item(), expected)


def _check_finite(owner: str, name: str, v: Any) -> None:
    if type(v) is float:
        if v - v != 0.0:  # NaN or +-inf
            raise InvalidParameterError(owner, name, v, "finite")
        return
    bad = ~np.isfinite(v)
    if bad.any():
        _raise_at(owner, name, v, bad, "finite")


def _check_positive(owner: str, name: str, v: Any) -> None:
    """Finite and strictly positive (NaN is reported as not > 0)."""
    if type(v) is float:
        if not v > 0.0:
            raise InvalidParameterError(owner, name, v, "> 0")
        if v == _INF:
            raise InvalidParameterError(owner, name, v, "finite")
        return
    with np.errstate(invalid="ignore"):
        bad = ~(v > 0.0)
    if bad.any():
        _raise_at(owner, name, v, bad, "> 0")
    bad = np.isinf(v)
    if bad.any():
        _raise_at(owner, name, v, bad, "finite")


def _check_probability(owner: str, name: str, v: Any) -> None:
    if type(v) is float:
        if not 0.0 <= v <= 1.0:
            raise InvalidParameterError(owner, name, v, "in [0, 1]")
        return
    with np.errstate(invalid="ignore"):
        bad = ~((v >= 0.0) & (v <= 1.0))
    if bad.any():
        _raise_at(owner, name, v, bad, "in [0, 1]")


def _batch_shape(owner: str, params: dict[str, Any]) -> tuple[int, ...]:
    shapes = {k: v.shape for k, v in params.items() if isinstance(v, np.ndarray)}
    if not shapes:
        return ()
    try:
        return tuple(np.broadcast_shapes(*shapes.values()))
    except ValueError:
        raise InvalidParameterError(
            owner, "the parameter shapes", shapes, "broadcast-compatible"
        ) from None


def _log(v: Any) -> Any:
    return math.log(v) if type(v) is float else np.log(v)


def _float(v: Any) -> Any:
    """A 0-d result of scipy.special on Python floats, as a Python float (keeps arrays)."""
    return float(v) if np.ndim(v) == 0 else v


def _sp(f: Any, *args: Any) -> Any:
    """Call a scipy.special ufunc without letting a Python float upcast float32 arrays.

    scipy.special's ufuncs, unlike NumPy's, treat a Python float as float64, so a
    Python-float parameter would turn a float32 result into float64.
    """
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if arrays and np.result_type(*arrays) == np.float32:
        args = tuple(np.float32(a) if type(a) is float else a for a in args)
    return f(*args)


def _fmt(v: Any) -> str:
    if isinstance(v, np.ndarray):
        if v.size <= 8:
            return "array(" + np.array2string(v, separator=", ") + ")"
        return f"array(shape={v.shape}, dtype={v.dtype})"
    return repr(v)


# ---------------------------------------------------------------------------------------------
# Value coercion
# ---------------------------------------------------------------------------------------------

_SCALAR_TYPES = (float, int, np.floating, np.integer, np.bool_)


def _bad_value(dist: Distribution, x: Any) -> InvalidObservationError:
    return InvalidObservationError(
        f"{dist!r}: cannot score a value of type {type(x).__name__}: {x!r} "
        "(expected a real number or an array of real numbers)"
    )


def _coerce_value(dist: Distribution, x: Any) -> float | np.ndarray:
    """A Python float for a numeric scalar, else an ndarray of a bool, integer or float dtype."""
    if isinstance(x, _SCALAR_TYPES):
        try:
            return float(x)
        except OverflowError:
            return _INF if x > 0 else _NINF
    if isinstance(x, (np.ndarray, list, tuple)) or (
        hasattr(x, "__array__") and not isinstance(x, (str, bytes))
    ):
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError):
            raise _bad_value(dist, x) from None
        kind = arr.dtype.kind
        if kind == "f":
            if arr.dtype != np.float64 and arr.dtype != np.float32:
                arr = arr.astype(np.float32 if arr.dtype.itemsize < 4 else np.float64)
        elif kind not in "biu":
            raise _bad_value(dist, x)
        return arr
    if isinstance(x, numbers.Real):
        return float(x)
    raise _bad_value(dist, x)


# ---------------------------------------------------------------------------------------------
# Loader's saddle-point pieces for Poisson and Binomial (exact where k is close to its mean)
# ---------------------------------------------------------------------------------------------

# stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n) for n = 0..15 (n = 0 is a placeholder),
# computed with mpmath at 40 digits.
_STIRLERR_TABLE = (
    0.0,
    0.08106146679532726,
    0.0413406959554093,
    0.02767792568499834,
    0.020790672103765093,
    0.016644691189821193,
    0.013876128823070748,
    0.01189670994589177,
    0.010411265261972096,
    0.009255462182712733,
    0.00833056343336287,
    0.007573675487951841,
    0.00694284010720953,
    0.006408994188004207,
    0.0059513701127588475,
    0.005554733551962801,
)
_STIRLERR_ARRAY = np.array(_STIRLERR_TABLE)
_S0, _S1, _S2, _S3, _S4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188


def _stirlerr(n: float) -> float:
    """Stirling's error for an integer-valued ``n >= 1`` (Loader 2000)."""
    if n <= 15.0:
        return _STIRLERR_TABLE[int(n)]
    nn = n * n
    return (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / n


def _stirlerr_arr(n: np.ndarray) -> np.ndarray:
    small = n <= 15.0
    idx = np.where(small & (n >= 0.0), n, 0.0).astype(np.intp)
    nn = n * n
    series = (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / n
    return np.where(small, _STIRLERR_ARRAY[idx], series)


def _bd0(x: float, m: float) -> float:
    """``x log(x/m) + m - x`` without cancellation when x is close to m (Loader 2000)."""
    d = x - m
    if abs(d) < 0.1 * (x + m):
        v = d / (x + m)
        s = d * v
        ej = 2.0 * x * v
        v *= v
        j = 3.0
        while True:
            ej *= v
            s1 = s + ej / j
            if s1 == s:
                return s1
            s = s1
            j += 2.0
    if x == 0.0:
        return m
    if m == 0.0:
        return _INF
    r = x / m
    lr = math.log(r) if 0.0 < r < _INF else math.log(x) - math.log(m)
    return x * lr + m - x


def _bd0_arr(x: Any, m: Any) -> np.ndarray:
    x, m = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64))
    r = x / m
    lr = np.where((r > 0.0) & (r < _INF), np.log(r), np.log(x) - np.log(m))
    out = np.where(x == 0.0, m, x * lr + m - x)
    d = x - m
    near = np.abs(d) < 0.1 * (x + m)
    if near.any():
        xs, ds = x[near], d[near]
        v = ds / (x[near] + m[near])
        s = ds * v
        ej = 2.0 * xs * v
        v2 = v * v
        for j in range(3, 201, 2):
            ej = ej * v2
            term = ej / j
            s = s + term
            if np.all(np.abs(term) <= 1e-17 * np.abs(s)):
                break
        out[near] = s
    return out


# ---------------------------------------------------------------------------------------------
# Base classes
# ---------------------------------------------------------------------------------------------


def _broadcast_or_none(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _fast_out(out: np.ndarray) -> bool:
    """Whether NumPy's generators can write into ``out`` directly."""
    return (
        (out.dtype == np.float64 or out.dtype == np.float32)
        and out.flags.c_contiguous
        and out.flags.writeable
        and out.flags.aligned
    )


class Distribution(ABC):
    """Base class of every distribution.

    Subclasses precompute their normalising constants in ``__init__`` and implement
    ``_lp_scalar`` (Python floats, :mod:`math` only), ``_lp_array`` (NumPy), ``sample``,
    ``mean``, ``variance`` and ``support``.

    Attributes
    ----------
    is_discrete
        True for distributions over integers or booleans.
    value_type
        The Python type of a scalar draw: ``float``, ``int`` or ``bool``.

    Examples
    --------
    >>> isinstance(Normal(0.0, 1.0), Distribution)
    True
    >>> Normal(0.0, 1.0).support.kind, Poisson(3.0).support.kind, Beta(2.0, 2.0).support.kind
    ('real', 'integer', 'interval')
    >>> Poisson(3.0).is_discrete, Poisson(3.0).value_type.__name__
    (True, 'int')
    """

    __slots__ = ("_batch_shape", "_scalar")

    _param_names: ClassVar[tuple[str, ...]] = ()
    is_discrete: ClassVar[bool] = False
    value_type: ClassVar[type] = float

    # --- scoring -----------------------------------------------------------------------------

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        """Log density (or log mass) of ``x``.

        Parameters
        ----------
        x
            A number (Python or NumPy scalar) or an array of numbers.

        Returns
        -------
        float or numpy.ndarray
            A Python float when ``x`` and every parameter are scalars, else an array of the
            broadcast shape of ``x`` and the batch shape. ``-inf`` outside the support,
            NaN for a NaN value.

        Raises
        ------
        InvalidObservationError
            If ``x`` is not numeric (a string, ``None``, an object array...).
        """
        return self._log_prob_general(x)

    def _log_prob_general(self, x: Any) -> float | np.ndarray:
        v = _coerce_value(self, x)
        if type(v) is float:
            if self._scalar:
                return self._lp_scalar(v)
            v = np.asarray(v, dtype=self._param_dtype())
        elif v.dtype.kind != "f":
            v = v.astype(np.float64)
        with np.errstate(all="ignore"):
            out = self._lp_array(v)
        return np.asarray(out)

    @abstractmethod
    def _lp_scalar(self, x: float) -> float:
        """Log density at a Python float (all parameters are Python numbers)."""

    @abstractmethod
    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        """Log density at a float array (parameters may be floats or arrays)."""

    def _float_param_arrays(self) -> list[np.ndarray]:
        out = []
        for name in self._param_names:
            v = getattr(self, "_" + name)
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                out.append(v)
        return out

    def _param_dtype(self) -> np.dtype:
        arrays = self._float_param_arrays()
        return np.result_type(*arrays) if arrays else np.dtype(np.float64)

    # --- sampling ----------------------------------------------------------------------------

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        """Draw from the distribution.

        Parameters
        ----------
        rng
            The source of randomness.
        size
            None for one draw per batch element; an int or a tuple otherwise. The result
            has the broadcast shape of ``size`` and the batch shape.

        Returns
        -------
        float, int, bool or numpy.ndarray
            A Python scalar (``value_type``) when ``size`` is None and the parameters are
            scalars, else an array (float64, int64 or bool).
        """

    def sample_into(self, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` in place with draws (one per element) and return it.

        Distributions that NumPy's generators can write into directly do so without
        allocating an array of ``out``'s size; the others fall back to
        ``out[...] = self.sample(rng, out.shape)``.
        """
        self._check_out(out)
        out[...] = self.sample(rng, out.shape)
        return out

    def _check_out(self, out: np.ndarray) -> None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{self!r}: out must be a numpy.ndarray, got {type(out).__name__}")
        if self._batch_shape and _broadcast_or_none(out.shape, self._batch_shape) != out.shape:
            raise ValueError(
                f"{self!r}: out has shape {out.shape}, which the batch shape "
                f"{self._batch_shape} does not broadcast to"
            )

    def _out_shape(self, size: int | tuple[int, ...] | None) -> tuple[int, ...]:
        if size is None:
            return self._batch_shape
        size = (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
        if not self._batch_shape:
            return size
        try:
            return tuple(np.broadcast_shapes(size, self._batch_shape))
        except ValueError:
            raise ValueError(
                f"{self!r}: size {size} is not broadcast-compatible with the batch shape "
                f"{self._batch_shape}"
            ) from None

    # --- description -------------------------------------------------------------------------

    @property
    @abstractmethod
    def mean(self) -> float | np.ndarray:
        """The mean (inf or NaN where it does not exist, as in scipy.stats)."""

    @property
    @abstractmethod
    def variance(self) -> float | np.ndarray:
        """The variance (inf or NaN where it does not exist, as in scipy.stats)."""

    @property
    @abstractmethod
    def support(self) -> Support:
        """The support; its ``kind`` tells inference code how to propose moves."""

    @property
    def params(self) -> dict[str, Any]:
        """The parameters, name -> value, in constructor order."""
        return {name: getattr(self, "_" + name) for name in self._param_names}

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The broadcast shape of the parameters (``()`` for scalar parameters)."""
        return self._batch_shape

    def _set_batch(self, params: dict[str, Any]) -> None:
        for v in params.values():
            if isinstance(v, np.ndarray):
                self._batch_shape = _batch_shape(type(self).__name__, params)
                self._scalar = False
                return
        self._batch_shape = ()
        self._scalar = True

    def _moment(self, v: Any) -> float | np.ndarray:
        if not self._batch_shape:
            return float(v)
        return np.array(np.broadcast_to(v, self._batch_shape))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"


class _Discrete(Distribution):
    """Shared scoring for distributions over integers: non-integers score -inf."""

    __slots__ = ()
    is_discrete = True
    value_type = int

    def _log_prob_general(self, x: Any) -> float | np.ndarray:
        v = _coerce_value(self, x)
        if type(v) is float:
            if self._scalar:
                if v != v:
                    return v
                if not v.is_integer():
                    return _NINF
                return self._lp_scalar(v)
            dtype = self._param_dtype()
            k = np.asarray(v, dtype=np.float64)
            is_float = True
        else:
            is_float = v.dtype.kind == "f"
            arrays = self._float_param_arrays()
            if is_float:
                arrays.append(v)
            dtype = np.result_type(*arrays) if arrays else np.dtype(np.float64)
            k = v.astype(np.float64, copy=False)
        with np.errstate(all="ignore"):
            out = self._lp_array(k)
            if is_float:
                out = np.where(np.isfinite(k) & (np.floor(k) == k), out, _NINF)
                out = np.where(np.isnan(k), _NAN, out)
        return np.asarray(out, dtype=dtype)


def _prop(name: str, doc: str) -> property:
    return property(attrgetter(name), doc=doc)


# ---------------------------------------------------------------------------------------------
# Continuous distributions
# ---------------------------------------------------------------------------------------------


class Normal(Distribution):
    """Normal distribution with mean ``mu`` and standard deviation ``sigma``.

    Parameters
    ----------
    mu
        Mean (finite).
    sigma
        Standard deviation (finite, > 0).

    Examples
    --------
    >>> import numpy as np
    >>> d = Normal(1.0, 2.0)
    >>> round(d.log_prob(1.0), 6)
    -1.612086
    >>> d.sample(np.random.default_rng(0), size=(2, 3)).shape
    (2, 3)
    """

    __slots__ = ("_log_norm", "_mu", "_sigma")
    _param_names = ("mu", "sigma")
    mu = _prop("_mu", "Mean.")
    sigma = _prop("_sigma", "Standard deviation.")

    def __init__(self, mu: ArrayLike, sigma: ArrayLike) -> None:
        if type(mu) is float and type(sigma) is float and mu - mu == 0.0 and 0.0 < sigma < _INF:
            self._mu = mu
            self._sigma = sigma
            self._log_norm = math.log(sigma) + _HALF_LOG_2PI
            self._batch_shape = ()
            self._scalar = True
            return
        mu = _param("Normal", "mu", mu)
        sigma = _param("Normal", "sigma", sigma)
        if type(mu) is float and type(sigma) is float and mu - mu == 0.0 and 0.0 < sigma < _INF:
            self.__init__(mu, sigma)  # Python ints or NumPy scalars: back to the fast path
            return
        _check_finite("Normal", "mu", mu)
        _check_positive("Normal", "sigma", sigma)
        self._mu = mu
        self._sigma = sigma
        self._log_norm = _log(sigma) + _HALF_LOG_2PI
        self._set_batch({"mu": mu, "sigma": sigma})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            z = (x - self._mu) / self._sigma
            return -0.5 * z * z - self._log_norm
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        z = (x - self._mu) / self._sigma
        return -0.5 * z * z - self._log_norm

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        z = (x - self._mu) / self._sigma
        return -0.5 * z * z - self._log_norm

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return self._mu + self._sigma * rng.standard_normal()
        return rng.normal(self._mu, self._sigma, self._out_shape(size))

    def sample_into(self, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        self._check_out(out)
        if not _fast_out(out):
            return Distribution.sample_into(self, rng, out)
        rng.standard_normal(out=out, dtype=out.dtype)
        out *= self._sigma
        out += self._mu
        return out

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._mu)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(np.square(self._sigma))

    @property
    def support(self) -> Support:
        return _REAL


class LogNormal(Distribution):
    """Log-normal distribution: ``exp(X)`` for ``X ~ Normal(mu, sigma)``.

    Parameters
    ----------
    mu
        Mean of the logarithm (finite).
    sigma
        Standard deviation of the logarithm (finite, > 0).

    Examples
    --------
    >>> round(LogNormal(0.0, 1.0).log_prob(1.0), 6)
    -0.918939
    >>> LogNormal(0.0, 1.0).log_prob(0.0)
    -inf
    """

    __slots__ = ("_log_norm", "_mu", "_sigma")
    _param_names = ("mu", "sigma")
    mu = _prop("_mu", "Mean of log(X).")
    sigma = _prop("_sigma", "Standard deviation of log(X).")

    def __init__(self, mu: ArrayLike, sigma: ArrayLike) -> None:
        mu = _param("LogNormal", "mu", mu)
        sigma = _param("LogNormal", "sigma", sigma)
        _check_finite("LogNormal", "mu", mu)
        _check_positive("LogNormal", "sigma", sigma)
        self._mu = mu
        self._sigma = sigma
        self._log_norm = _log(sigma) + _HALF_LOG_2PI
        self._set_batch({"mu": mu, "sigma": sigma})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            return self._lp_scalar(x)
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        if x <= 0.0:
            return _NINF
        lx = math.log(x)
        z = (lx - self._mu) / self._sigma
        return -0.5 * z * z - self._log_norm - lx

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        lx = np.log(x)
        z = (lx - self._mu) / self._sigma
        out = -0.5 * z * z - self._log_norm - lx
        return np.where(x <= 0.0, _NINF, out)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            t = self._mu + self._sigma * rng.standard_normal()
            return math.exp(t) if t < _EXP_OVERFLOW else _INF
        with np.errstate(over="ignore"):
            return rng.lognormal(self._mu, self._sigma, self._out_shape(size))

    def sample_into(self, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        self._check_out(out)
        if not _fast_out(out):
            return Distribution.sample_into(self, rng, out)
        rng.standard_normal(out=out, dtype=out.dtype)
        out *= self._sigma
        out += self._mu
        with np.errstate(over="ignore"):
            np.exp(out, out=out)
        return out

    @property
    def mean(self) -> float | np.ndarray:
        with np.errstate(over="ignore"):
            return self._moment(np.exp(self._mu + 0.5 * np.square(self._sigma)))

    @property
    def variance(self) -> float | np.ndarray:
        s2 = np.square(self._sigma)
        with np.errstate(over="ignore", invalid="ignore"):
            return self._moment(np.expm1(s2) * np.exp(2.0 * self._mu + s2))

    @property
    def support(self) -> Support:
        return _POSITIVE


class Uniform(Distribution):
    """Continuous uniform distribution on ``[low, high]``.

    Parameters
    ----------
    low, high
        Finite bounds with ``low < high``.

    Examples
    --------
    >>> round(Uniform(0.0, 4.0).log_prob(1.0), 6)
    -1.386294
    >>> Uniform(0.0, 4.0).log_prob(5.0)
    -inf
    """

    __slots__ = ("_high", "_log_width", "_low", "_width")
    _param_names = ("low", "high")
    low = _prop("_low", "Lower bound.")
    high = _prop("_high", "Upper bound.")

    def __init__(self, low: ArrayLike, high: ArrayLike) -> None:
        low = _param("Uniform", "low", low)
        high = _param("Uniform", "high", high)
        _check_finite("Uniform", "low", low)
        _check_finite("Uniform", "high", high)
        if type(low) is float and type(high) is float:
            if not low < high:
                raise InvalidParameterError("Uniform", "high", high, f"> low ({low!r})")
            width = high - low
            # the width overflows only for bounds near the float64 limits
            lw = math.log(width) if width < _INF else math.log(0.5 * high - 0.5 * low) + _LOG_2
        else:
            bad = ~(np.asarray(low) < np.asarray(high))
            if bad.any():
                idx = np.unravel_index(int(np.argmax(bad)), bad.shape)
                lo = np.broadcast_to(low, bad.shape)[idx].item()
                _raise_at("Uniform", "high", high, bad, f"> low ({lo!r})")
            width = high - low
            with np.errstate(over="ignore"):
                lw = np.log(width)
        self._low = low
        self._high = high
        self._width = width
        self._log_width = lw
        self._set_batch({"low": low, "high": high})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            if x < self._low or x > self._high:
                return _NINF
            return x * 0.0 - self._log_width  # x * 0.0 propagates NaN
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        if x < self._low or x > self._high:
            return _NINF
        return x * 0.0 - self._log_width

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        return np.where((x < self._low) | (x > self._high), _NINF, x * 0.0 - self._log_width)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return self._low + self._width * rng.random()
        return rng.uniform(self._low, self._high, self._out_shape(size))

    def sample_into(self, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        self._check_out(out)
        if not _fast_out(out):
            return Distribution.sample_into(self, rng, out)
        rng.random(out=out, dtype=out.dtype)
        out *= self._width
        out += self._low
        return out

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._low + 0.5 * self._width)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(np.square(self._width) / 12.0)

    @property
    def support(self) -> Support:
        return Support("interval", self._low, self._high)


class Exponential(Distribution):
    """Exponential distribution with rate ``rate`` (mean ``1 / rate``).

    Parameters
    ----------
    rate
        Rate (finite, > 0).

    Examples
    --------
    >>> round(Exponential(2.0).log_prob(0.5), 6)
    -0.306853
    """

    __slots__ = ("_log_rate", "_rate")
    _param_names = ("rate",)
    rate = _prop("_rate", "Rate.")

    def __init__(self, rate: ArrayLike) -> None:
        rate = _param("Exponential", "rate", rate)
        _check_positive("Exponential", "rate", rate)
        self._rate = rate
        self._log_rate = _log(rate)
        self._set_batch({"rate": rate})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            if x < 0.0:
                return _NINF
            return self._log_rate - self._rate * x
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        if x < 0.0:
            return _NINF
        return self._log_rate - self._rate * x

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        return np.where(x < 0.0, _NINF, self._log_rate - self._rate * x)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return rng.standard_exponential() / self._rate
        return rng.standard_exponential(self._out_shape(size)) / self._rate

    def sample_into(self, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        self._check_out(out)
        if not _fast_out(out):
            return Distribution.sample_into(self, rng, out)
        rng.standard_exponential(out=out, dtype=out.dtype)
        out /= self._rate
        return out

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(1.0 / self._rate)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(1.0 / np.square(self._rate))

    @property
    def support(self) -> Support:
        return _POSITIVE


class _GammaLike(Distribution):
    """Gamma(a, r) density on x >= 0, shared by Gamma and ChiSquared."""

    __slots__ = ("_a", "_c", "_lp0", "_r")

    def _setup(self, a: Any, r: Any) -> None:
        self._a = a
        self._r = r
        if type(a) is float and type(r) is float:
            self._c = math.log(r) - math.lgamma(a)
            self._lp0 = _INF if a < 1.0 else (self._c if a == 1.0 else _NINF)
        else:
            self._c = _log(r) - sc.gammaln(a)
            self._lp0 = None  # the array path handles x = 0 through xlogy

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            return self._lp_scalar(x)
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        if x <= 0.0:
            return self._lp0 if x == 0.0 else _NINF
        y = self._r * x
        if y == _INF:
            return _NINF
        if y == 0.0:  # underflow: the boundary value is the limit
            return self._lp0
        return (self._a - 1.0) * math.log(y) - y + self._c

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        y = self._r * x
        out = _sp(sc.xlogy, self._a - 1.0, y) - y + self._c
        return np.where((x < 0.0) | (y == _INF), _NINF, out)

    def sample_into(self, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        self._check_out(out)
        if not (_fast_out(out) and type(self._a) is float):
            return Distribution.sample_into(self, rng, out)
        rng.standard_gamma(self._a, out=out, dtype=out.dtype)
        out /= self._r
        return out

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._a / self._r)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(self._a / np.square(self._r))

    @property
    def support(self) -> Support:
        return _POSITIVE


class Gamma(_GammaLike):
    """Gamma distribution with shape ``shape`` and rate ``rate`` (mean ``shape / rate``).

    Same as ``scipy.stats.gamma(a=shape, scale=1/rate)``.

    Parameters
    ----------
    shape
        Shape (finite, > 0).
    rate
        Rate, the inverse scale (finite, > 0).

    Examples
    --------
    >>> round(Gamma(2.0, 1.0).log_prob(1.0), 6)
    -1.0
    >>> Gamma(2.0, 1.0).log_prob(1000.0)
    -993.09...
    """

    __slots__ = ("_rate", "_shape")
    _param_names = ("shape", "rate")
    shape = _prop("_shape", "Shape.")
    rate = _prop("_rate", "Rate.")

    def __init__(self, shape: ArrayLike, rate: ArrayLike) -> None:
        shape = _param("Gamma", "shape", shape)
        rate = _param("Gamma", "rate", rate)
        _check_positive("Gamma", "shape", shape)
        _check_positive("Gamma", "rate", rate)
        self._shape = shape
        self._rate = rate
        self._setup(shape, rate)
        self._set_batch({"shape": shape, "rate": rate})

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return rng.standard_gamma(self._a) / self._r
        return rng.standard_gamma(self._a, self._out_shape(size)) / self._r


class ChiSquared(_GammaLike):
    """Chi-squared distribution with ``k`` degrees of freedom (``Gamma(k/2, 1/2)``).

    Parameters
    ----------
    k
        Degrees of freedom (finite, > 0; need not be an integer).

    Examples
    --------
    >>> round(ChiSquared(2.0).log_prob(0.0), 6)
    -0.693147
    """

    __slots__ = ("_k",)
    _param_names = ("k",)
    k = _prop("_k", "Degrees of freedom.")

    def __init__(self, k: ArrayLike) -> None:
        k = _param("ChiSquared", "k", k)
        _check_positive("ChiSquared", "k", k)
        self._k = k
        self._setup(0.5 * k, 0.5)
        self._set_batch({"k": k})

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return 2.0 * rng.standard_gamma(self._a)
        return 2.0 * rng.standard_gamma(self._a, self._out_shape(size))


class Beta(Distribution):
    """Beta distribution on ``[0, 1]``.

    At the endpoints the density follows scipy.stats: at 0 it is ``+inf`` for
    ``alpha < 1``, ``beta`` for ``alpha == 1`` and 0 for ``alpha > 1`` (likewise at 1).

    Parameters
    ----------
    alpha, beta
        Shapes (finite, > 0).

    Examples
    --------
    >>> round(Beta(2.0, 2.0).log_prob(0.5), 6)
    0.405465
    >>> Beta(0.5, 0.5).log_prob(0.0)
    inf
    """

    __slots__ = ("_alpha", "_beta", "_lbeta", "_lp0", "_lp1")
    _param_names = ("alpha", "beta")
    alpha = _prop("_alpha", "First shape.")
    beta = _prop("_beta", "Second shape.")

    def __init__(self, alpha: ArrayLike, beta: ArrayLike) -> None:
        alpha = _param("Beta", "alpha", alpha)
        beta = _param("Beta", "beta", beta)
        _check_positive("Beta", "alpha", alpha)
        _check_positive("Beta", "beta", beta)
        self._alpha = alpha
        self._beta = beta
        lbeta = _float(_sp(sc.betaln, alpha, beta))
        self._lbeta = lbeta
        if type(alpha) is float and type(beta) is float:
            self._lp0 = _INF if alpha < 1.0 else (-lbeta if alpha == 1.0 else _NINF)
            self._lp1 = _INF if beta < 1.0 else (-lbeta if beta == 1.0 else _NINF)
        else:
            self._lp0 = self._lp1 = None  # the array path handles the endpoints itself
        self._set_batch({"alpha": alpha, "beta": beta})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            return self._lp_scalar(x)
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        if x <= 0.0 or x >= 1.0:
            if x == 0.0:
                return self._lp0
            if x == 1.0:
                return self._lp1
            return _NINF
        return (self._alpha - 1.0) * math.log(x) + (self._beta - 1.0) * math.log1p(-x) - self._lbeta

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        out = (
            _sp(sc.xlogy, self._alpha - 1.0, x)
            + _sp(sc.xlog1py, self._beta - 1.0, -x)
            - self._lbeta
        )
        return np.where((x < 0.0) | (x > 1.0), _NINF, out)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return rng.beta(self._alpha, self._beta)
        return rng.beta(self._alpha, self._beta, self._out_shape(size))

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._alpha / (self._alpha + self._beta))

    @property
    def variance(self) -> float | np.ndarray:
        a, b = self._alpha, self._beta
        s = a + b
        return self._moment(a * b / (s * s * (s + 1.0)))

    @property
    def support(self) -> Support:
        return _UNIT_INTERVAL


def _log1p_square(t: Any) -> Any:
    """log(1 + t**2) for a float, without overflow for huge |t|."""
    t2 = t * t
    if t2 == _INF:
        return 2.0 * math.log(abs(t))
    return math.log1p(t2)


def _log1p_square_arr(t: np.ndarray) -> np.ndarray:
    t2 = t * t
    return np.where(np.isinf(t2), 2.0 * np.log(np.abs(t)), np.log1p(t2))


_HALF_RATIO_SHIFT = 20.0  # the asymptotic series below is exact to an ulp from here on


def _lgamma_half_ratio(x: float) -> float:
    """``log Gamma(x + 1/2) - log Gamma(x)`` for x > 0, accurate to a few ulps for every x.

    Differencing ``lgamma`` loses digits for large x (and scipy's ``betaln`` and ``poch``
    lose up to 1e-10 around x = 1e3..1e6); this shifts x to at least 20 with
    ``ratio(x) = ratio(x + 1) - log1p(1 / (2x))`` and then sums the Stirling series
    ``log(x)/2 - 1/(8x) + 1/(192x^3) - 1/(640x^5) + 17/(14336x^7) - 31/(18432x^9)``.
    """
    shift = 0.0
    while x < _HALF_RATIO_SHIFT:
        shift -= math.log1p(0.5 / x)
        x += 1.0
    r = 1.0 / x
    r2 = r * r
    series = r * (-1 / 8 + r2 * (1 / 192 + r2 * (-1 / 640 + r2 * (17 / 14336 - r2 * 31 / 18432))))
    return shift + 0.5 * math.log(x) + series


def _lgamma_half_ratio_arr(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    shift = np.zeros_like(x)
    while True:
        low = x < _HALF_RATIO_SHIFT
        if not low.any():
            break
        shift -= np.where(low, np.log1p(0.5 / x), 0.0)
        x = np.where(low, x + 1.0, x)
    r = 1.0 / x
    r2 = r * r
    series = r * (-1 / 8 + r2 * (1 / 192 + r2 * (-1 / 640 + r2 * (17 / 14336 - r2 * 31 / 18432))))
    return shift + 0.5 * np.log(x) + series


class StudentT(Distribution):
    """Student's t distribution with ``df`` degrees of freedom, location and scale.

    Parameters
    ----------
    df
        Degrees of freedom (finite, > 0).
    loc
        Location (finite).
    scale
        Scale (finite, > 0).

    Examples
    --------
    >>> round(StudentT(3.0).log_prob(0.0), 6)
    -1.000889
    """

    __slots__ = ("_c", "_df", "_hp", "_loc", "_scale", "_sqrt_df")
    _param_names = ("df", "loc", "scale")
    df = _prop("_df", "Degrees of freedom.")
    loc = _prop("_loc", "Location.")
    scale = _prop("_scale", "Scale.")

    def __init__(self, df: ArrayLike, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0) -> None:
        df = _param("StudentT", "df", df)
        loc = _param("StudentT", "loc", loc)
        scale = _param("StudentT", "scale", scale)
        _check_positive("StudentT", "df", df)
        _check_finite("StudentT", "loc", loc)
        _check_positive("StudentT", "scale", scale)
        self._df = df
        self._loc = loc
        self._scale = scale
        if type(df) is float:
            lr = _lgamma_half_ratio(0.5 * df)
        else:
            lr = _lgamma_half_ratio_arr(0.5 * df).astype(df.dtype, copy=False)
        self._c = lr - 0.5 * (_log(df) + _LOG_PI) - _log(scale)
        self._hp = 0.5 * (df + 1.0)
        self._sqrt_df = math.sqrt(df) if type(df) is float else np.sqrt(df)
        self._set_batch({"df": df, "loc": loc, "scale": scale})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            t = (x - self._loc) / self._scale / self._sqrt_df
            return self._c - self._hp * _log1p_square(t)
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        t = (x - self._loc) / self._scale / self._sqrt_df
        return self._c - self._hp * _log1p_square(t)

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        t = (x - self._loc) / self._scale / self._sqrt_df
        return self._c - self._hp * _log1p_square_arr(t)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return self._loc + self._scale * rng.standard_t(self._df)
        return self._loc + self._scale * rng.standard_t(self._df, self._out_shape(size))

    @property
    def mean(self) -> float | np.ndarray:
        df = np.asarray(self._df)
        return self._moment(np.where(df > 1.0, self._loc, _INF))

    @property
    def variance(self) -> float | np.ndarray:
        df = np.asarray(self._df)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.square(self._scale) * df / (df - 2.0)
        return self._moment(np.where(df > 2.0, v, np.where(df > 1.0, _INF, _NAN)))

    @property
    def support(self) -> Support:
        return _REAL


class Cauchy(Distribution):
    """Cauchy distribution with location ``loc`` and scale ``scale``.

    Parameters
    ----------
    loc
        Location, the median (finite).
    scale
        Scale, the half-width at half-maximum (finite, > 0).

    Examples
    --------
    >>> round(Cauchy(0.0, 1.0).log_prob(1.0), 6)
    -1.837877
    """

    __slots__ = ("_c", "_loc", "_scale")
    _param_names = ("loc", "scale")
    loc = _prop("_loc", "Location.")
    scale = _prop("_scale", "Scale.")

    def __init__(self, loc: ArrayLike, scale: ArrayLike) -> None:
        loc = _param("Cauchy", "loc", loc)
        scale = _param("Cauchy", "scale", scale)
        _check_finite("Cauchy", "loc", loc)
        _check_positive("Cauchy", "scale", scale)
        self._loc = loc
        self._scale = scale
        self._c = -_LOG_PI - _log(scale)
        self._set_batch({"loc": loc, "scale": scale})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            return self._c - _log1p_square((x - self._loc) / self._scale)
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        return self._c - _log1p_square((x - self._loc) / self._scale)

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        return self._c - _log1p_square_arr((x - self._loc) / self._scale)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return self._loc + self._scale * rng.standard_cauchy()
        return self._loc + self._scale * rng.standard_cauchy(self._out_shape(size))

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(_NAN)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(_NAN)

    @property
    def support(self) -> Support:
        return _REAL


class Laplace(Distribution):
    """Laplace (double exponential) distribution with location ``loc`` and scale ``scale``.

    Parameters
    ----------
    loc
        Location (finite).
    scale
        Scale (finite, > 0); the variance is ``2 scale**2``.

    Examples
    --------
    >>> round(Laplace(0.0, 1.0).log_prob(1.0), 6)
    -1.693147
    """

    __slots__ = ("_c", "_loc", "_scale")
    _param_names = ("loc", "scale")
    loc = _prop("_loc", "Location.")
    scale = _prop("_scale", "Scale.")

    def __init__(self, loc: ArrayLike, scale: ArrayLike) -> None:
        loc = _param("Laplace", "loc", loc)
        scale = _param("Laplace", "scale", scale)
        _check_finite("Laplace", "loc", loc)
        _check_positive("Laplace", "scale", scale)
        self._loc = loc
        self._scale = scale
        self._c = -_LOG_2 - _log(scale)
        self._set_batch({"loc": loc, "scale": scale})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            return self._c - abs(x - self._loc) / self._scale
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        return self._c - abs(x - self._loc) / self._scale

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        return self._c - np.abs(x - self._loc) / self._scale

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return rng.laplace(self._loc, self._scale)
        return rng.laplace(self._loc, self._scale, self._out_shape(size))

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._loc)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(2.0 * np.square(self._scale))

    @property
    def support(self) -> Support:
        return _REAL


class Weibull(Distribution):
    """Weibull distribution with shape ``shape`` (k) and scale ``scale`` (lambda).

    Same as ``scipy.stats.weibull_min(c=shape, scale=scale)``.

    Parameters
    ----------
    shape
        Shape k (finite, > 0).
    scale
        Scale lambda (finite, > 0).

    Examples
    --------
    >>> round(Weibull(2.0, 1.0).log_prob(1.0), 6)
    -0.306853
    """

    __slots__ = ("_c", "_lp0", "_scale", "_shape")
    _param_names = ("shape", "scale")
    shape = _prop("_shape", "Shape k.")
    scale = _prop("_scale", "Scale lambda.")

    def __init__(self, shape: ArrayLike, scale: ArrayLike) -> None:
        shape = _param("Weibull", "shape", shape)
        scale = _param("Weibull", "scale", scale)
        _check_positive("Weibull", "shape", shape)
        _check_positive("Weibull", "scale", scale)
        self._shape = shape
        self._scale = scale
        self._c = _log(shape) - _log(scale)
        if type(shape) is float and type(scale) is float:
            self._lp0 = _INF if shape < 1.0 else (self._c if shape == 1.0 else _NINF)
        else:
            self._lp0 = None
        self._set_batch({"shape": shape, "scale": scale})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            return self._lp_scalar(x)
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        if x <= 0.0:
            return self._lp0 if x == 0.0 else _NINF
        y = x / self._scale
        if y == 0.0:  # underflow: the boundary value is the limit
            return self._lp0
        k = self._shape
        ly = math.log(y)
        t = k * ly
        if t > _EXP_OVERFLOW:  # y**k overflows (this includes x = inf)
            return _NINF
        return self._c + (k - 1.0) * ly - math.exp(t)

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        y = x / self._scale
        out = self._c + _sp(sc.xlogy, self._shape - 1.0, y) - np.power(y, self._shape)
        return np.where((x < 0.0) | (y == _INF), _NINF, out)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return self._scale * rng.weibull(self._shape)
        return self._scale * rng.weibull(self._shape, self._out_shape(size))

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._scale * sc.gamma(1.0 + 1.0 / np.asarray(self._shape)))

    @property
    def variance(self) -> float | np.ndarray:
        k = np.asarray(self._shape)
        g1 = sc.gamma(1.0 + 1.0 / k)
        g2 = sc.gamma(1.0 + 2.0 / k)
        with np.errstate(invalid="ignore", over="ignore"):
            return self._moment(np.square(self._scale) * (g2 - g1 * g1))

    @property
    def support(self) -> Support:
        return _POSITIVE


class InverseGamma(Distribution):
    """Inverse-gamma distribution: ``1 / X`` for ``X ~ Gamma(shape, rate)``.

    Same as ``scipy.stats.invgamma(a=shape, scale=rate)``.

    Parameters
    ----------
    shape
        Shape (finite, > 0).
    rate
        Rate of the underlying gamma, the scale of this one (finite, > 0).

    Examples
    --------
    >>> round(InverseGamma(3.0, 2.0).log_prob(1.0), 6)
    -0.613706
    """

    __slots__ = ("_c", "_rate", "_shape")
    _param_names = ("shape", "rate")
    shape = _prop("_shape", "Shape.")
    rate = _prop("_rate", "Rate of the underlying gamma (scale of this distribution).")

    def __init__(self, shape: ArrayLike, rate: ArrayLike) -> None:
        shape = _param("InverseGamma", "shape", shape)
        rate = _param("InverseGamma", "rate", rate)
        _check_positive("InverseGamma", "shape", shape)
        _check_positive("InverseGamma", "rate", rate)
        self._shape = shape
        self._rate = rate
        if type(shape) is float:
            self._c = -math.lgamma(shape) - _log(rate)
        else:
            self._c = -sc.gammaln(shape) - _log(rate)
        self._set_batch({"shape": shape, "rate": rate})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is float and self._scalar:
            return self._lp_scalar(x)
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        if x <= 0.0:
            return _NINF
        y = x / self._rate
        if y == 0.0:  # underflow: the density tends to 0
            return _NINF
        return self._c - (self._shape + 1.0) * math.log(y) - 1.0 / y

    def _lp_array(self, x: np.ndarray) -> np.ndarray:
        y = x / self._rate
        out = self._c - (self._shape + 1.0) * np.log(y) - 1.0 / y
        return np.where((x <= 0.0) | (y == 0.0), _NINF, out)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            g = rng.standard_gamma(self._shape)
            return self._rate / g if g > 0.0 else _INF
        with np.errstate(divide="ignore"):
            return self._rate / rng.standard_gamma(self._shape, self._out_shape(size))

    def sample_into(self, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        self._check_out(out)
        if not (_fast_out(out) and type(self._shape) is float):
            return Distribution.sample_into(self, rng, out)
        rng.standard_gamma(self._shape, out=out, dtype=out.dtype)
        with np.errstate(divide="ignore"):
            np.divide(self._rate, out, out=out)
        return out

    @property
    def mean(self) -> float | np.ndarray:
        a = np.asarray(self._shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = self._rate / (a - 1.0)
        return self._moment(np.where(a > 1.0, m, _INF))

    @property
    def variance(self) -> float | np.ndarray:
        a = np.asarray(self._shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.square(self._rate) / np.square(a - 1.0) / (a - 2.0)
        return self._moment(np.where(a > 2.0, v, _INF))

    @property
    def support(self) -> Support:
        return _POSITIVE


# ---------------------------------------------------------------------------------------------
# Discrete distributions
# ---------------------------------------------------------------------------------------------


class Bernoulli(_Discrete):
    """Bernoulli distribution: ``True`` with probability ``p``.

    ``log_prob`` accepts ``True``/``False``, the integers 0 and 1 and the floats 0.0 and
    1.0; any other number scores ``-inf``. Exact at ``p = 0`` and ``p = 1``.

    Parameters
    ----------
    p
        Probability of ``True``, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> round(Bernoulli(0.25).log_prob(True), 6)
    -1.386294
    >>> Bernoulli(0.0).log_prob(False)
    0.0
    >>> type(Bernoulli(0.5).sample(np.random.default_rng(0)))
    <class 'bool'>
    """

    __slots__ = ("_lp0", "_lp1", "_p")
    _param_names = ("p",)
    value_type = bool
    p = _prop("_p", "Probability of True.")

    def __init__(self, p: ArrayLike) -> None:
        p = _param("Bernoulli", "p", p)
        _check_probability("Bernoulli", "p", p)
        self._p = p
        if type(p) is float:
            self._lp1 = math.log(p) if p > 0.0 else _NINF
            self._lp0 = math.log1p(-p) if p < 1.0 else _NINF
        else:
            with np.errstate(divide="ignore"):
                self._lp1 = np.log(p)
                self._lp0 = np.log1p(-p)
        self._set_batch({"p": p})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if self._scalar:
            tx = type(x)
            if tx is bool:
                return self._lp1 if x else self._lp0
            if tx is int or tx is float:
                if x == 1:
                    return self._lp1
                if x == 0:
                    return self._lp0
                return x if x != x else _NINF
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        if x == 1.0:
            return self._lp1
        return self._lp0 if x == 0.0 else _NINF

    def _lp_array(self, k: np.ndarray) -> np.ndarray:
        return np.where(k == 1.0, self._lp1, np.where(k == 0.0, self._lp0, _NINF))

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return rng.random() < self._p
        return rng.random(self._out_shape(size)) < self._p

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._p)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(self._p * (1.0 - self._p))

    @property
    def support(self) -> Support:
        return _BOOLEAN


class Binomial(_Discrete):
    """Binomial distribution: the number of successes in ``n`` trials of probability ``p``.

    The log mass uses Loader's saddle-point form, accurate to a few ulps even for huge
    ``n`` near the mode, and exact at ``p = 0`` and ``p = 1``.

    Parameters
    ----------
    n
        Number of trials, a non-negative integer (an integral float is accepted).
    p
        Success probability, in [0, 1].

    Examples
    --------
    >>> round(Binomial(10, 0.5).log_prob(5), 6)
    -1.402043
    >>> Binomial(5, 0.0).log_prob(0), Binomial(5, 0.0).log_prob(1)
    (0.0, -inf)
    """

    __slots__ = ("_lp_all", "_lp_none", "_n", "_nf", "_np", "_nq", "_p", "_st_n")
    _param_names = ("n", "p")
    n = _prop("_n", "Number of trials.")
    p = _prop("_p", "Success probability.")

    def __init__(self, n: ArrayLike, p: ArrayLike) -> None:
        n = _int_param("Binomial", "n", n)
        p = _param("Binomial", "p", p)
        if type(n) is int:
            if n < 0:
                raise InvalidParameterError("Binomial", "n", n, "a non-negative integer")
        else:
            bad = n < 0
            if bad.any():
                _raise_at("Binomial", "n", n, bad, "a non-negative integer")
        _check_probability("Binomial", "p", p)
        self._n = n
        self._p = p
        self._set_batch({"n": n, "p": p})
        if self._scalar:
            nf = float(n)
            self._nf = nf
            self._np = nf * p
            self._nq = nf * (1.0 - p)
            self._st_n = _stirlerr(nf) if nf > 0.0 else 0.0
            self._lp_none = nf * math.log1p(-p) if p < 1.0 else (0.0 if n == 0 else _NINF)
            self._lp_all = nf * math.log(p) if p > 0.0 else (0.0 if n == 0 else _NINF)
        else:
            self._nf = np.asarray(n, dtype=np.float64)
            self._np = self._nq = self._st_n = self._lp_none = self._lp_all = None

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is int and self._scalar and -(2**62) < x < 2**62:
            return self._lp_scalar(float(x))
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, k: float) -> float:
        n = self._nf
        if k < 0.0 or k > n:
            return _NINF
        if k == 0.0:
            return self._lp_none
        if k == n:
            return self._lp_all
        p = self._p
        if p == 0.0 or p == 1.0:
            return _NINF
        lc = (
            self._st_n - _stirlerr(k) - _stirlerr(n - k) - _bd0(k, self._np) - _bd0(n - k, self._nq)
        )
        lf = _LOG_2PI + math.log(k) + math.log1p(-k / n)
        return lc - 0.5 * lf

    def _lp_array(self, k: np.ndarray) -> np.ndarray:
        n = self._nf
        p = np.asarray(self._p, dtype=np.float64)
        inner = (k > 0.0) & (k < n)
        kk = np.where(inner, k, 1.0)
        nk = np.where(inner, n - k, 1.0)
        lc = (
            _stirlerr_arr(np.asarray(n, dtype=np.float64))
            - _stirlerr_arr(kk)
            - _stirlerr_arr(nk)
            - _bd0_arr(kk, n * p)
            - _bd0_arr(nk, n * (1.0 - p))
        )
        lf = _LOG_2PI + np.log(kk) + np.log1p(-kk / n)
        out = lc - 0.5 * lf
        out = np.where(k == 0.0, sc.xlog1py(n, -p), out)
        out = np.where(k == n, sc.xlogy(n, p), out)
        return np.where((k < 0.0) | (k > n), _NINF, out)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return int(rng.binomial(self._n, self._p))
        return rng.binomial(self._n, self._p, self._out_shape(size)).astype(np.int64, copy=False)

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._nf * self._p)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(self._nf * self._p * (1.0 - self._p))

    @property
    def support(self) -> Support:
        return Support("integer", 0.0, self._nf)


class Poisson(_Discrete):
    """Poisson distribution with mean ``rate``.

    The log mass uses Loader's saddle-point form, accurate even for huge counts near the
    mean, where ``k log(rate) - rate - lgamma(k + 1)`` cancels catastrophically.

    Parameters
    ----------
    rate
        Mean (finite, > 0).

    Examples
    --------
    >>> round(Poisson(3.0).log_prob(2), 6)
    -1.495923
    >>> round(Poisson(1e6).log_prob(1_000_000), 6)
    -7.826694
    """

    __slots__ = ("_rate",)
    _param_names = ("rate",)
    rate = _prop("_rate", "Mean.")

    def __init__(self, rate: ArrayLike) -> None:
        rate = _param("Poisson", "rate", rate)
        _check_positive("Poisson", "rate", rate)
        self._rate = rate
        self._set_batch({"rate": rate})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is int and self._scalar and -(2**62) < x < 2**62:
            return self._lp_scalar(float(x))
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, k: float) -> float:
        if k <= 0.0:
            return -self._rate if k == 0.0 else _NINF
        return -_stirlerr(k) - _bd0(k, self._rate) - 0.5 * (_LOG_2PI + math.log(k))

    def _lp_array(self, k: np.ndarray) -> np.ndarray:
        rate = np.asarray(self._rate, dtype=np.float64)
        kk = np.where(k > 0.0, k, 1.0)
        out = -_stirlerr_arr(kk) - _bd0_arr(kk, rate) - 0.5 * (_LOG_2PI + np.log(kk))
        out = np.where(k == 0.0, -rate, out)
        return np.where(k < 0.0, _NINF, out)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return int(rng.poisson(self._rate))
        return rng.poisson(self._rate, self._out_shape(size)).astype(np.int64, copy=False)

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(self._rate)

    @property
    def variance(self) -> float | np.ndarray:
        return self._moment(self._rate)

    @property
    def support(self) -> Support:
        return _COUNTS


class Categorical(_Discrete):
    """Categorical distribution over ``0 .. k-1`` with probabilities ``probs``.

    Parameters
    ----------
    probs
        Probabilities, 1-D of length k or 2-D of shape (n, k) for a batch of n
        distributions; non-negative, each row summing to 1 within 1e-9 (they are not
        renormalised).

    Examples
    --------
    >>> import numpy as np
    >>> d = Categorical([0.2, 0.3, 0.5])
    >>> round(d.log_prob(2), 6)
    -0.693147
    >>> d.log_prob(3)
    -inf
    >>> Categorical(np.array([[0.5, 0.5], [1.0, 0.0]])).log_prob(np.array([0, 1]))
    array([-0.69314718,        -inf])
    """

    __slots__ = ("_cdf", "_cdf_list", "_k", "_logp", "_logp_list", "_probs")
    _param_names = ("probs",)
    probs = _prop("_probs", "Probabilities (the last axis indexes the categories).")

    def __init__(self, probs: ArrayLike) -> None:
        owner = "Categorical"
        if isinstance(probs, (numbers.Number, np.generic)):
            raise _type_error(owner, "probs", probs, "a 1-D or 2-D array of probabilities")
        probs = _param(owner, "probs", probs)
        if not isinstance(probs, np.ndarray) or probs.ndim not in (1, 2):
            shape = np.shape(probs)
            raise InvalidParameterError(
                owner, "probs", f"an array of shape {shape}", "1-D (k,) or 2-D (n, k)"
            )
        k = probs.shape[-1]
        if k == 0:
            raise InvalidParameterError(owner, "probs", probs.tolist(), "non-empty")
        with np.errstate(invalid="ignore"):
            bad = ~(probs >= 0.0)
        if bad.any():
            _raise_at(owner, "probs", probs, bad, ">= 0")
        bad = np.isinf(probs)
        if bad.any():
            _raise_at(owner, "probs", probs, bad, "finite")
        totals = probs.sum(axis=-1, dtype=np.float64)
        tol = max(1e-9, 4.0 * k * float(np.finfo(probs.dtype).eps))
        off = np.abs(totals - 1.0) > tol
        if off.any():
            if probs.ndim == 1:
                raise InvalidParameterError(
                    owner,
                    "probs",
                    _short(probs),
                    f"a vector that sums to 1 (its sum is {float(totals)!r})",
                )
            i = int(np.argmax(off))
            raise InvalidParameterError(
                owner,
                f"probs[{i}]",
                _short(probs[i]),
                f"a vector that sums to 1 (its sum is {float(totals[i])!r})",
            )
        self._probs = probs
        self._k = k
        with np.errstate(divide="ignore"):
            self._logp = np.log(probs)
        cdf = np.cumsum(probs, axis=-1, dtype=np.float64)
        # positions from the last non-zero category on are set to inf, so that rounding in
        # the cumulative sum can never select a category of probability zero
        last = k - 1 - np.argmax((probs > 0.0)[..., ::-1], axis=-1)
        cdf[np.arange(k) >= np.expand_dims(last, -1)] = _INF
        self._cdf = cdf
        self._batch_shape = probs.shape[:-1]
        self._scalar = probs.ndim == 1
        if self._scalar:
            self._logp_list = [float(v) for v in self._logp]
            self._cdf_list = [float(v) for v in cdf]
        else:
            self._logp_list = self._cdf_list = None

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is int and self._scalar:
            return self._logp_list[x] if 0 <= x < self._k else _NINF
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        return self._logp_list[int(x)] if 0.0 <= x < self._k else _NINF

    def _lp_array(self, k: np.ndarray) -> np.ndarray:
        valid = (k >= 0.0) & (k < self._k) & (np.floor(k) == k)
        idx = np.where(valid, k, 0.0).astype(np.intp)
        logp = self._logp
        if logp.ndim == 1:
            out = logp[idx]
        else:
            shape = np.broadcast_shapes(idx.shape, self._batch_shape)
            lp = np.broadcast_to(logp, (*shape, self._k))
            out = np.take_along_axis(lp, np.broadcast_to(idx, shape)[..., None], axis=-1)[..., 0]
        return np.where(valid, out, _NINF)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return bisect.bisect_right(self._cdf_list, rng.random())
        u = rng.random(self._out_shape(size))
        if self._cdf.ndim == 1:
            return np.searchsorted(self._cdf, u, side="right").astype(np.int64, copy=False)
        return (u[..., None] >= self._cdf).sum(axis=-1, dtype=np.int64)

    @property
    def mean(self) -> float | np.ndarray:
        i = np.arange(self._k, dtype=np.float64)
        return self._moment(self._probs @ i)

    @property
    def variance(self) -> float | np.ndarray:
        i = np.arange(self._k, dtype=np.float64)
        m = self._probs @ i
        return self._moment(self._probs @ (i * i) - m * m)

    @property
    def support(self) -> Support:
        return Support("categorical", 0.0, float(self._k - 1))


def _short(v: np.ndarray) -> Any:
    return v.tolist() if v.size <= 10 else f"array of shape {v.shape}"


class DiscreteUniform(_Discrete):
    """Uniform distribution over the integers ``low, low + 1, ..., high`` (both inclusive).

    Parameters
    ----------
    low, high
        Integer bounds (integral floats are accepted) with ``low <= high``.

    Examples
    --------
    >>> round(DiscreteUniform(1, 6).log_prob(3), 6)
    -1.791759
    >>> DiscreteUniform(1, 6).log_prob(7)
    -inf
    """

    __slots__ = ("_high", "_low", "_neg_log_n")
    _param_names = ("low", "high")
    low = _prop("_low", "Smallest value.")
    high = _prop("_high", "Largest value.")

    def __init__(self, low: ArrayLike, high: ArrayLike) -> None:
        low = _int_param("DiscreteUniform", "low", low)
        high = _int_param("DiscreteUniform", "high", high)
        if type(low) is int and type(high) is int:
            if low > high:
                raise InvalidParameterError("DiscreteUniform", "high", high, f">= low ({low})")
            self._neg_log_n = -math.log(high - low + 1)
        else:
            bad = np.asarray(low) > np.asarray(high)
            if bad.any():
                idx = np.unravel_index(int(np.argmax(bad)), bad.shape)
                lo = np.broadcast_to(low, bad.shape)[idx].item()
                _raise_at("DiscreteUniform", "high", high, bad, f">= low ({lo})")
            self._neg_log_n = -np.log(np.asarray(high, dtype=np.float64) - low + 1.0)
        self._low = low
        self._high = high
        self._set_batch({"low": low, "high": high})

    def log_prob(self, x: ArrayLike) -> float | np.ndarray:
        if type(x) is int and self._scalar:
            return self._neg_log_n if self._low <= x <= self._high else _NINF
        return self._log_prob_general(x)

    log_prob.__doc__ = Distribution.log_prob.__doc__

    def _lp_scalar(self, x: float) -> float:
        return self._neg_log_n if self._low <= x <= self._high else _NINF

    def _lp_array(self, k: np.ndarray) -> np.ndarray:
        return np.where((k < self._low) | (k > self._high), _NINF, self._neg_log_n + 0.0 * k)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None) -> Any:
        if size is None and self._scalar:
            return int(rng.integers(self._low, self._high, endpoint=True))
        return rng.integers(self._low, self._high, self._out_shape(size), endpoint=True)

    @property
    def mean(self) -> float | np.ndarray:
        return self._moment(0.5 * (np.asarray(self._low, dtype=np.float64) + self._high))

    @property
    def variance(self) -> float | np.ndarray:
        width = np.asarray(self._high, dtype=np.float64) - self._low + 1.0
        return self._moment((width * width - 1.0) / 12.0)

    @property
    def support(self) -> Support:
        low, high = self._low, self._high
        if type(low) is int:
            return Support("integer", float(low), float(high))
        return Support("integer", np.asarray(low, np.float64), np.asarray(high, np.float64))
