"""Differential-privacy noise for the measurement marts, drawn by OpenDP's vetted samplers.

DuckDB's random() is a fast PRNG, not a cryptographically secure one, and a hand-written
Laplace sampler over floats leaks through its rounding (Mironov 2012). OpenDP samples from a
CSPRNG, exactly (discrete Laplace for integers; for floats, discrete Laplace on a fine grid),
and each mechanism carries a proven privacy map. This module only wires those mechanisms to
SQL; every privacy claim rests on OpenDP's `make_laplace`.

Mechanisms (Laplace, pure epsilon-DP, delta = 0):

    count   integer value, discrete Laplace (geometric) noise, integer sensitivity
    sum     float value (a sum of values clamped by the caller), Laplace noise

For a query whose output changes by at most `sensitivity` (L1) when one subject's data is
added or removed, the scale is sensitivity / epsilon, and OpenDP's privacy map must confirm
that the mechanism spends at most epsilon for that sensitivity; otherwise we refuse.
Bounding the sensitivity (clamping values, capping the rows a subject contributes) is the
caller's job: the dbt macros in macros/measurement/ do it before calling these functions.

Public API:

    noise_scale(kind, sensitivity, epsilon)      the Laplace scale used
    mechanism(kind, sensitivity, epsilon)        the OpenDP measurement (cached)
    add_noise(kind, value, sensitivity, epsilon) one noisy release of value
    error_bound(kind, scale, alpha)              t with P(|noise| > t) <= alpha
    register_functions(connection)               the SQL functions below, on a DuckDB connection

    dp_noisy_count(value BIGINT, sensitivity DOUBLE, epsilon DOUBLE) -> BIGINT
    dp_noisy_sum(value DOUBLE, sensitivity DOUBLE, epsilon DOUBLE)   -> DOUBLE
    dp_noise_scale(kind VARCHAR, sensitivity DOUBLE, epsilon DOUBLE) -> DOUBLE
    dp_error_bound(kind VARCHAR, scale DOUBLE, alpha DOUBLE)         -> DOUBLE

The noisy functions are registered with side_effects=True, so DuckDB draws afresh for every
row and never folds or caches a call. On Spark, the launcher registers the same functions from
this module (scripts/privseg/spark/functions.py), the noisy ones as non-deterministic UDFs.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Any

import opendp.prelude as dp

dp.enable_features("contrib")

KINDS = ("count", "sum")
COUNT_FUNCTION = "dp_noisy_count"
SUM_FUNCTION = "dp_noisy_sum"
SCALE_FUNCTION = "dp_noise_scale"
BOUND_FUNCTION = "dp_error_bound"


def _check(kind: str, sensitivity: float, epsilon: float) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be a positive finite number, got {epsilon!r}")
    finite = isinstance(sensitivity, int | float) and math.isfinite(sensitivity)
    if not (finite and sensitivity > 0):
        raise ValueError(f"sensitivity must be a positive finite number, got {sensitivity!r}")
    if kind == "count" and float(sensitivity) != int(sensitivity):
        raise ValueError(f"a count's sensitivity must be a whole number, got {sensitivity!r}")


def _space(kind: str) -> tuple[Any, Any]:
    if kind == "count":
        return dp.atom_domain(T="i64"), dp.absolute_distance(T="i64")
    return dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float)


def _d_in(kind: str, sensitivity: float) -> int | float:
    return int(sensitivity) if kind == "count" else float(sensitivity)


@functools.lru_cache(maxsize=128)
def _mechanism(kind: str, sensitivity: float, epsilon: float) -> tuple[Any, float]:
    space = _space(kind)
    d_in = _d_in(kind, sensitivity)
    scale = float(sensitivity) / float(epsilon)
    measurement = dp.m.make_laplace(*space, scale=scale)
    if measurement.map(d_in) > epsilon:
        # Floating-point slack in the privacy map: let OpenDP find the smallest safe scale.
        scale = dp.binary_search_param(
            lambda s: dp.m.make_laplace(*space, scale=s), d_in=d_in, d_out=float(epsilon)
        )
        measurement = dp.m.make_laplace(*space, scale=scale)
    if measurement.map(d_in) > epsilon:  # never expected; refuse rather than overspend
        raise ValueError(f"no Laplace scale spends at most epsilon={epsilon} for {kind}")
    return measurement, float(scale)


def mechanism(kind: str, sensitivity: float, epsilon: float) -> Any:
    """The OpenDP Laplace measurement for `kind` that spends at most epsilon at sensitivity."""
    _check(kind, sensitivity, epsilon)
    return _mechanism(kind, float(sensitivity), float(epsilon))[0]


def noise_scale(kind: str, sensitivity: float, epsilon: float) -> float:
    """The Laplace scale b of the mechanism (noise standard deviation = b * sqrt(2))."""
    _check(kind, sensitivity, epsilon)
    return _mechanism(kind, float(sensitivity), float(epsilon))[1]


def add_noise(kind: str, value: float, sensitivity: float, epsilon: float) -> float | int:
    """One noisy release of `value`: value + Laplace(sensitivity / epsilon) noise."""
    measurement = mechanism(kind, sensitivity, epsilon)
    return measurement(int(value) if kind == "count" else float(value))


def error_bound(kind: str, scale: float, alpha: float = 0.05) -> float:
    """The smallest t with P(|noise| > t) <= alpha, for Laplace noise of `scale`.

    Continuous Laplace: P(|X| > t) = exp(-t / b), so t = b ln(1 / alpha).
    Discrete Laplace (P(x) proportional to exp(-|x| / b)): P(|X| > t) =
    2 exp(-(t + 1) / b) / (1 + exp(-1 / b)) for whole t >= 0, so t is the smallest whole
    number with that at most alpha.
    """
    if not (0 < alpha < 1) or not scale > 0:
        raise ValueError("alpha must be in (0, 1) and scale positive")
    if kind == "sum":
        return scale * math.log(1 / alpha)
    if kind != "count":
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    q = math.exp(-1 / scale)
    # 2 q^(t+1) / (1 + q) <= alpha  <=>  t + 1 >= ln(alpha (1 + q) / 2) / ln q
    t = math.ceil(math.log(alpha * (1 + q) / 2) / math.log(q) - 1)
    return float(max(t, 0))


# --- DuckDB functions ----------------------------------------------------------------------


def _noisy_count(value: int | None, sensitivity: float, epsilon: float) -> int | None:
    return None if value is None else int(add_noise("count", value, sensitivity, epsilon))


def _noisy_sum(value: float | None, sensitivity: float, epsilon: float) -> float | None:
    return None if value is None else float(add_noise("sum", value, sensitivity, epsilon))


def register_functions(connection: Any) -> None:
    """Register the four functions on a DuckDB connection (its cursors see them). Idempotent.

    NULL in gives NULL out (DuckDB's default null handling): a suppressed or missing value
    is never noised into a number.
    """
    functions = (
        (COUNT_FUNCTION, _noisy_count, ["BIGINT", "DOUBLE", "DOUBLE"], "BIGINT", True),
        (SUM_FUNCTION, _noisy_sum, ["DOUBLE", "DOUBLE", "DOUBLE"], "DOUBLE", True),
        (SCALE_FUNCTION, noise_scale, ["VARCHAR", "DOUBLE", "DOUBLE"], "DOUBLE", False),
        (BOUND_FUNCTION, error_bound, ["VARCHAR", "DOUBLE", "DOUBLE"], "DOUBLE", False),
    )
    for name, function, parameters, returns, side_effects in functions:
        with contextlib.suppress(Exception):  # not registered yet
            connection.remove_function(name)
        connection.create_function(
            name,
            function,
            parameters,
            returns,
            side_effects=side_effects,
        )
