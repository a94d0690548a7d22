"""When people shop: the daily demand over the window (season, weekday, Black Friday week,
Christmas) for two weekday profiles, and the hour of the day."""

from __future__ import annotations

from datetime import date, timedelta

from privseg.datagen.parameters import Parameters
from privseg.datagen.reference import HOUR_WEIGHTS, MONTH_FACTORS, WEEKDAY_FACTORS

# Weekday profiles: 0 typical, 1 weekend shopper (WEEKDAY_FACTORS).
PROFILES = (0, 1)


def black_friday(year: int) -> date:
    november_first = date(year, 11, 1)
    first_thursday = november_first + timedelta(days=(3 - november_first.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def demand_calendar(
    params: Parameters,
) -> tuple[list[int], list[int], list[float], list[bool]]:
    """Columns (profile, day, cumulative demand before the day, promotion week?), one row per
    profile and day of the window: a uniform draw above a day's cumulative demand picks that
    day or a later one in proportion to demand."""
    start = params.end_date - timedelta(days=params.days)
    profiles: list[int] = []
    days: list[int] = []
    cumulative_before: list[float] = []
    promotions: list[bool] = []
    for profile in PROFILES:
        weights, promotion_days = [], []
        for offset in range(params.days):
            day = start + timedelta(days=offset)
            weight = MONTH_FACTORS[day.month - 1] * WEEKDAY_FACTORS[profile][day.weekday()]
            from_black_friday = (day - black_friday(day.year)).days
            promotion = -4 <= from_black_friday <= 3
            if from_black_friday == 0:
                weight *= 3.2
            elif from_black_friday in (1, 2):
                weight *= 1.8
            elif from_black_friday == 3:
                weight *= 2.5  # Cyber Monday
            elif -7 <= from_black_friday < 0:
                weight *= 1.3
            if day.month == 12 and day.day >= 24:
                weight *= {24: 0.4, 25: 0.3, 26: 0.5}.get(day.day, 0.6)
            weights.append(weight)
            promotion_days.append(promotion)
        total = sum(weights)
        cumulative = 0.0
        for offset, weight in enumerate(weights):
            profiles.append(profile)
            days.append(offset)
            cumulative_before.append(cumulative / total)
            promotions.append(promotion_days[offset])
            cumulative += weight
    return profiles, days, cumulative_before, promotions


def hour_lookup() -> list[int]:
    """Inverse CDF of HOUR_WEIGHTS at 1/1000 resolution: entry i is the hour of uniform i/1000."""
    total = sum(HOUR_WEIGHTS)
    cumulative, bounds = 0.0, []
    for weight in HOUR_WEIGHTS:
        cumulative += weight / total
        bounds.append(cumulative)
    lookup, hour = [], 0
    for index in range(1000):
        uniform = (index + 0.5) / 1000
        while hour < 23 and uniform >= bounds[hour]:
            hour += 1
        lookup.append(hour)
    return lookup
