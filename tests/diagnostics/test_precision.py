"""precision_sweep: the frame's shape, its references, and stable against naive functions."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from fugue_lab.diagnostics import available_functions, precision_sweep
from fugue_lab.diagnostics.precision import DEFAULT_SCALES, PRECISION_COLUMNS
from fugue_lab.errors import InvalidParameterError

STABLE = [
    "log_sum_exp", "weighted_log_sum_exp", "normalize_log_probs", "log1p_exp", "safe_ln",
    "log_gamma",
]  # fmt: skip
NAIVE = [
    "naive_log_sum_exp", "naive_weighted_log_sum_exp", "naive_normalize_log_probs",
    "naive_log1p_exp", "naive_ln",
]  # fmt: skip


@pytest.fixture(scope="module")
def sweeps() -> dict[int, object]:
    """Both signs over every function, default scales and both dtypes (about a second)."""
    return {sign: precision_sweep(sign=sign, min_time_s=0) for sign in (1, -1)}


def test_available_functions() -> None:
    assert available_functions() == STABLE + NAIVE


def test_one_row_per_function_scale_dtype(sweeps: dict) -> None:
    frame = sweeps[1]
    assert list(frame.columns) == list(PRECISION_COLUMNS)
    assert len(frame) == len(STABLE + NAIVE) * len(DEFAULT_SCALES) * 2
    assert not frame.duplicated(["function", "scale", "dtype"]).any()
    assert min(DEFAULT_SCALES) == 1e-300 and max(DEFAULT_SCALES) == 1e300
    assert set(frame["dtype"]) == {"float32", "float64"}
    pairs = set(zip(frame["function"], frame["family"], frame["variant"]))
    assert ("naive_ln", "safe_ln", "naive") in pairs
    assert ("naive_log_sum_exp", "log_sum_exp", "naive") in pairs
    assert ("log_gamma", "log_gamma", "stable") in pairs
    assert frame["seconds_per_call"].isna().all()  # min_time_s=0 skips timing


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stable_log_sum_exp_is_within_a_few_ulp_where_naive_fails(
    sweeps: dict, sign: int, dtype: str
) -> None:
    frame = sweeps[sign]
    rows = frame[(frame["dtype"] == dtype) & frame["input_in_range"]]
    stable = rows[rows["function"] == "log_sum_exp"].set_index("scale")
    naive = rows[rows["function"] == "naive_log_sum_exp"].set_index("scale")
    failed = naive.index[~np.isfinite(naive["value"])]
    # exp overflows past log(max float) (sign +1: the largest input is s); log(0) = -inf once
    # every exp underflows below the smallest subnormal (sign -1: the smallest |input| is s/4).
    info = np.finfo(dtype)
    if sign == 1:
        bound = math.log(float(info.max))
        predicted = [s for s in naive.index if s > bound]
    else:
        bound = -math.log(float(info.smallest_subnormal))
        predicted = [s for s in naive.index if s / 4 > bound]
    assert failed.tolist() == predicted and len(predicted) >= 4
    expected = math.inf if sign == 1 else -math.inf
    assert (naive.loc[failed, "value"] == expected).all()
    assert (naive.loc[failed, "ulp_error"] == math.inf).all()
    assert np.isfinite(stable.loc[failed, "value"]).all()
    assert (stable["ulp_error"] <= 2.0).all()  # correctly rounded is 0.5


@pytest.mark.parametrize("family", ["log_sum_exp", "normalize_log_probs", "log1p_exp", "safe_ln",
                                    "log_gamma"])
def test_stable_functions_stay_accurate_at_every_scale(sweeps: dict, family: str) -> None:
    for frame in sweeps.values():
        rows = frame[(frame["function"] == family) & frame["input_in_range"]]
        assert (rows["ulp_error"] <= 2.0).all(), rows[rows["ulp_error"] > 2.0]


def test_references_agree_with_closed_forms(sweeps: dict) -> None:
    frame = sweeps[1].set_index(["function", "scale", "dtype"])
    # lse(s [1, .5, .25]) at s = 1: three exponentials a double handles exactly enough.
    ref = frame.loc[("log_sum_exp", 1.0, "float64"), "reference"]
    assert ref == pytest.approx(math.log(math.e + math.exp(0.5) + math.exp(0.25)), rel=1e-15)
    # At s = 1e300 the smaller terms vanish: lse = s, exactly in double precision.
    assert frame.loc[("log_sum_exp", 1e300, "float64"), "reference"] == 1e300
    # log1p_exp(-s) = exp(-s) to double precision for large s.
    neg = sweeps[-1].set_index(["function", "scale", "dtype"])
    assert neg.loc[("log1p_exp", 1e2, "float64"), "reference"] == pytest.approx(
        math.exp(-100.0), rel=1e-15
    )
    assert frame.loc[("safe_ln", 1e-300, "float64"), "reference"] == pytest.approx(
        math.log(1e-300), rel=1e-16
    )
    assert frame.loc[("log_gamma", 1e2, "float64"), "reference"] == pytest.approx(
        math.lgamma(100.0), rel=1e-15
    )


def test_errors_are_measured_against_the_reference() -> None:
    frame = precision_sweep(["log_sum_exp"], scales=[0.1, 10.0], dtypes=["float64"], min_time_s=0)
    for _, row in frame.iterrows():
        x = [row["scale"] * c for c in (1.0, 0.5, 0.25)]
        with mpmath.workdps(60):
            exact = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in x))
            abs_error = abs(mpmath.mpf(row["value"]) - exact)
            spacing = np.spacing(np.float64(float(exact)))
            assert row["abs_error"] == pytest.approx(float(abs_error), rel=1e-10, abs=1e-300)
            assert row["ulp_error"] == pytest.approx(float(abs_error / spacing), rel=1e-10)


def test_float32_inputs_out_of_range_are_flagged() -> None:
    frame = precision_sweep(["log_sum_exp"], scales=[1e-300, 1.0, 1e300], min_time_s=0)
    flags = frame.set_index(["scale", "dtype"])["input_in_range"]
    assert not flags[(1e300, "float32")] and not flags[(1e-300, "float32")]
    assert flags[(1.0, "float32")] and flags[(1e300, "float64")] and flags[(1e-300, "float64")]


def test_exceptions_are_recorded_not_raised() -> None:
    # float32(1e50) is inf: normalising [inf, inf, inf] has no answer and raises.
    frame = precision_sweep(["normalize_log_probs"], scales=[1e50], dtypes=["float32"],
                            min_time_s=0)
    row = frame.iloc[0]
    assert row["exception"] == "DegenerateWeightsError" and math.isnan(row["value"])
    assert math.isnan(row["ulp_error"])  # the reference is undefined too


def test_timing_is_recorded() -> None:
    frame = precision_sweep(["log_sum_exp"], scales=[1.0], dtypes=["float64"], min_time_s=1e-4)
    assert frame["seconds_per_call"].iloc[0] > 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"functions": ["log_sum_exp", "lse"]}, "functions"),
        ({"functions": []}, "functions"),
        ({"scales": [1.0, -1.0]}, "scales"),
        ({"scales": [0.0]}, "scales"),
        ({"scales": [math.inf]}, "scales"),
        ({"scales": ["big"]}, "scales"),
        ({"scales": []}, "scales"),
        ({"dtypes": [np.float16]}, "dtypes"),
        ({"dtypes": ["int64"]}, "dtypes"),
        ({"sign": 0}, "sign"),
        ({"min_time_s": -1.0}, "min_time_s"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        precision_sweep(**kwargs)
    assert info.value.name == name
