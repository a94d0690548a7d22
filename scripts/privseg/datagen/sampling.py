"""SQL expressions several tables share: a postcode area of a country, a product category by
demand, the products of a category, a postcode, and a time after a customer's signup that
follows the demand calendar."""

from __future__ import annotations

from privseg.datagen.reference import CATEGORIES
from privseg.datagen.sql import sql_list, weighted_choice
from privseg.datagen.workspace import Workspace

# Letters used in British inward codes.
BRITISH_POSTCODE_LETTERS = "'ABDEFGHJLNPQRSTUWXYZ'"


def postcode_area_index(workspace: Workspace, country: str, uniform: str) -> str:
    """A uniformly chosen postcode area index within `country` (no join needed)."""
    counts = " ".join(
        f"when '{code}' then {count}" for code, count in workspace.area_counts.items()
    )
    return f"cast(floor({uniform} * case {country} {counts} end) as integer)"


def category_by_demand(uniform: str) -> str:
    """A category index, each with the probability of its share of demand."""
    return weighted_choice(uniform, [(index, c.weight) for index, c in enumerate(CATEGORIES)])


def category_size(workspace: Workspace, category_index: str) -> str:
    """The number of products in a category (an index expression)."""
    return f"{sql_list(workspace.category_sizes)}[({category_index}) + 1]"


def postcode(salt: str, key: str) -> str:
    """A plausible postcode for the postcode_areas row `postcode_areas` (its prefix and a
    suffix in the country's format)."""

    def digits(position: int) -> str:
        return f"random_int('{salt}', {key}, {position})"

    letters = BRITISH_POSTCODE_LETTERS
    prefix = "postcode_areas.postcode_prefix"
    return f"""case postcode_areas.country_code
        when 'GB' then {prefix} || ' ' || cast({digits(1)} % 10 as varchar)
            || substr({letters}, 1 + cast({digits(2)} % 20 as integer), 1)
            || substr({letters}, 1 + cast({digits(3)} % 20 as integer), 1)
        when 'NL' then {prefix} || lpad(cast({digits(1)} % 100 as varchar), 2, '0')
            || ' ' || chr(65 + cast({digits(2)} % 26 as integer))
            || chr(65 + cast({digits(3)} % 26 as integer))
        when 'US' then {prefix} || lpad(cast({digits(1)} % 100 as varchar), 2, '0')
        when 'FR' then {prefix} || '0' || lpad(cast(1 + {digits(1)} % 20 as varchar), 2, '0')
        when 'ES' then {prefix} || '0' || lpad(cast(1 + {digits(1)} % 50 as varchar), 2, '0')
        when 'IT' then {prefix} || '1' || lpad(cast({digits(1)} % 100 as varchar), 2, '0')
        else {prefix} || lpad(cast({digits(1)} % 1000 as varchar), 3, '0')
    end"""


def time_after_signup(workspace: Workspace, source: str, key: str, salt: str) -> str:
    """A query over the rows of `source` with a sampled time `sampled_at` (epoch seconds) and
    `is_promotion` (the day is in a promotion week) added.

    `source` must have `key` (unique), profile, first_day, signup_epoch, preferred_hour and
    hour_focus. The day follows the demand calendar of the row's profile from its first day on;
    the hour is near the preferred hour with probability hour_focus, else any hour by the hourly
    rhythm. A time that would fall before the signup is moved to just after it.
    """
    window_start = workspace.params.window_start_epoch
    return f"""
        with targeted as (
            select
                sampled.*,
                calendar_start.cumulative_before
                + random_uniform('{salt}d', sampled.{key})
                * (1 - calendar_start.cumulative_before) as target
            from {source} as sampled
            inner join demand_calendar as calendar_start
                on
                    calendar_start.profile = sampled.profile
                    and calendar_start.day = sampled.first_day
        ),

        days_and_hours as (
            select
                targeted.*,
                calendar_day.day as picked_day,
                calendar_day.is_promotion,
                case
                    when random_uniform('{salt}f', targeted.{key}) < targeted.hour_focus
                        then (
                            targeted.preferred_hour
                            + cast(floor(random_uniform('{salt}o', targeted.{key}) * 3) as integer)
                            + 23
                        ) % 24
                    else hour_of_day(random_uniform('{salt}h', targeted.{key}))
                end as hour
            from targeted
            asof inner join demand_calendar as calendar_day
                on
                    calendar_day.profile = targeted.profile
                    and targeted.target >= calendar_day.cumulative_before
        ),

        unclamped as (
            select
                days_and_hours.*,
                {window_start} + days_and_hours.picked_day * 86400 + days_and_hours.hour * 3600
                + cast(floor(random_uniform('{salt}s', days_and_hours.{key}) * 3600) as bigint)
                    as unclamped_at
            from days_and_hours
        )

        select
            unclamped.* exclude (unclamped_at, target, hour),
            case
                when unclamped.unclamped_at > unclamped.signup_epoch then unclamped.unclamped_at
                else unclamped.signup_epoch + 120
                    + cast(floor(random_uniform('{salt}a', unclamped.{key}) * 3600) as bigint)
            end as sampled_at
        from unclamped"""
