"""The OpenDP noise behind the measurement marts' differential privacy (plugins/dp_noise.py):
the privacy map confirms the spend, noisy values differ from exact ones, and their error
stays within the bounds docs/auditors.md reports, in statistical tests with a fixed tolerance.

Each statistical test draws a few thousand values: a failure by chance is below 1e-4."""

from __future__ import annotations

import math
import statistics

import duckdb
import pytest

import dp_noise

DRAWS = 4000


@pytest.mark.parametrize(
    ("kind", "sensitivity", "epsilon"), [("count", 4, 1 / 6), ("sum", 1000.0, 1 / 6)]
)
def test_the_privacy_map_confirms_the_mechanism_spends_at_most_epsilon(kind, sensitivity, epsilon):
    measurement = dp_noise.mechanism(kind, sensitivity, epsilon)
    assert measurement.map(sensitivity if kind == "sum" else int(sensitivity)) <= epsilon
    assert dp_noise.noise_scale(kind, sensitivity, epsilon) == pytest.approx(sensitivity / epsilon)


@pytest.mark.parametrize(
    ("kind", "sensitivity", "epsilon"),
    [
        ("count", 0, 1.0),
        ("count", 2.5, 1.0),
        ("sum", 1.0, 0.0),
        ("sum", 1.0, -1.0),
        ("other", 1, 1.0),
    ],
)
def test_bad_parameters_are_refused(kind, sensitivity, epsilon):
    with pytest.raises(ValueError):
        dp_noise.mechanism(kind, sensitivity, epsilon)


@pytest.mark.parametrize(
    ("kind", "sensitivity", "epsilon"), [("count", 24, 1.0), ("sum", 6000.0, 1.0)]
)
def test_noisy_values_stay_within_the_95_percent_error_bound(kind, sensitivity, epsilon):
    exact = 300
    scale = dp_noise.noise_scale(kind, sensitivity, epsilon)
    bound = dp_noise.error_bound(kind, scale, 0.05)
    errors = [dp_noise.add_noise(kind, exact, sensitivity, epsilon) - exact for _ in range(DRAWS)]
    assert sum(e != 0 for e in errors) > 0.9 * DRAWS  # noisy values differ from the exact one
    within = sum(abs(e) <= bound for e in errors) / DRAWS
    # Expected share >= 0.95, standard error ~0.0035: 0.93 is about 6 standard errors away.
    assert within >= 0.93
    assert within <= 0.975  # and the bound is not loose: the noise really has that spread
    # Laplace(b): mean 0, mean absolute error b (discrete: within 5 %). Tolerances ~6 std errors.
    assert abs(statistics.fmean(errors)) < 6 * scale * math.sqrt(2) / math.sqrt(DRAWS)
    assert statistics.fmean(abs(e) for e in errors) == pytest.approx(scale, rel=0.1)


def test_count_bound_matches_the_discrete_laplace_tail():
    # P(|X| > t) = 2 q^(t+1) / (1 + q), q = exp(-1/b): the bound is the first t at or below alpha.
    scale = 24.0
    t = dp_noise.error_bound("count", scale, 0.05)
    q = math.exp(-1 / scale)
    tail = lambda s: 2 * q ** (s + 1) / (1 + q)  # noqa: E731
    assert tail(t) <= 0.05 < tail(t - 1)


def test_the_sql_functions_draw_fresh_noise_per_row_and_keep_nulls():
    con = duckdb.connect()
    dp_noise.register_functions(con)
    dp_noise.register_functions(con)  # idempotent
    distinct, nulls = con.execute(
        "select count(distinct dp_noisy_count(100, 24, 1.0)), "
        "count(dp_noisy_sum(null, 10.0, 1.0)) from range(200)"
    ).fetchone()
    assert distinct > 20  # not folded into one constant
    assert nulls == 0
    ((scale, bound),) = con.execute(
        "select dp_noise_scale('count', 24, 1.0), dp_error_bound('count', 24.0, 0.05)"
    ).fetchall()
    assert scale == pytest.approx(24.0)
    assert bound == dp_noise.error_bound("count", 24.0, 0.05)
