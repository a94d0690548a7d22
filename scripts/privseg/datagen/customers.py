"""customers: identities (names, contact details, address, birth date) and, for the tables built
after it, each customer's behaviour: when they signed up, how often they order and browse, their
favourite categories, preferred hour, channel and device, engagement and privacy attitude."""

from __future__ import annotations

from privseg.datagen.reference import (
    CATEGORIES,
    COUNTRIES,
    CRM_NOTES,
    FIRST_NAMES_PER_GENDER,
    LAST_NAMES,
    STREETS,
)
from privseg.datagen.sampling import category_by_demand, postcode, postcode_area_index
from privseg.datagen.sql import sql_list, weighted_choice
from privseg.datagen.workspace import Workspace

# Behaviour knobs (calibrated for --days 365; counts scale with each customer's exposure).
# Orders: hurdle model. A customer buys at all with probability
# (1 - P_NEVER_BUYER) * (1 - exp(-BUYER_HAZARD * exposure_years)); buyers place
# 1 + Geometric(mean = rate * exposure_years) orders, rate ~ LogNormal(MU, SIGMA) per customer.
# At 365 days: ~25% of customers never order, ~57% of buyers order once, ~2.2 orders/customer.
P_NEVER_BUYER = 0.10
BUYER_HAZARD = 5.0
ORDER_RATE_MU = 0.1
ORDER_RATE_SIGMA = 1.4
MAX_ORDERS = 60
BROWSE_SESSIONS_PER_YEAR = 1.15  # scaled by a per-customer activity factor

# The drawn customer's number (1..N), for every random draw of this table.
NUMBER = "drawn.customer_number"


def _uniform(salt: str) -> str:
    return f"random_uniform('{salt}', {NUMBER})"


def _random_int(salt: str, position: int) -> str:
    return f"random_int('{salt}', {NUMBER}, {position})"


def _signup_epoch(workspace: Workspace) -> str:
    """40% signed up in the three years before the window, the others during it."""
    window_start, days = workspace.params.window_start_epoch, workspace.params.days
    return f"""case
            when {_uniform("pre")} < 0.4
                then {window_start}
                - cast(1 + floor(1095 * pow({_uniform("sd")}, 1.3)) as bigint) * 86400
            else {window_start} + cast(floor({days} * pow({_uniform("sd")}, 0.8)) as bigint) * 86400
        end
        + cast(hour_of_day({_uniform("sh")}) * 3600 + floor({_uniform("sm")} * 3600) as bigint)"""


def _age_years() -> str:
    return f"""case
            when {_uniform("ageb")} < 0.12 then 18 + 7 * {_uniform("age")}
            when {_uniform("ageb")} < 0.80 then 25 + 20 * {_uniform("age")}
            else 45 + 41 * pow({_uniform("age")}, 1.4)
        end"""


def _phone() -> str:
    """A mobile number in the country's format; 12% have none."""

    def digits(modulus: int, width: int) -> str:
        return f"lpad(cast({_random_int('ph', 0)} % {modulus} as varchar), {width}, '0')"

    def one_of(low: int, count: int, position: int = 1) -> str:
        return f"cast({low} + {_random_int('ph', position)} % {count} as varchar)"

    return f"""case
            when {_uniform("phnull")} < 0.12 then null
            else case drawn.country
                when 'GB' then '+447' || {digits(1000000000, 9)}
                when 'DE' then '+491' || {one_of(5, 3)} || {digits(1000000000, 9)}
                when 'FR' then '+33' || {one_of(6, 2)} || {digits(100000000, 8)}
                when 'NL' then '+316' || {digits(100000000, 8)}
                when 'ES' then '+34' || {one_of(6, 2)} || {digits(100000000, 8)}
                when 'IT' then '+393' || {digits(1000000000, 9)}
                else '+1' || {one_of(201, 789)} || {one_of(200, 800, 2)}
                    || lpad(cast({_random_int("ph", 0)} % 10000 as varchar), 4, '0')
            end
        end"""


def _street_address(salt: str, street_names: str) -> str:
    """A street and house number in the country's order, the street from `street_names`."""
    number = (
        f"cast(case when drawn.country = 'US' then 10 + {_random_int(salt, 1)} % 9990 "
        f"else 1 + {_random_int(salt, 1)} % 120 end as varchar)"
    )
    street = f"{street_names}.name"
    return f"""case
            when countries.number_first then {number} || ' ' || {street}
            when drawn.country in ('ES', 'IT') then {street} || ', ' || {number}
            else {street} || ' ' || {number}
        end"""


def _email_local_part() -> str:
    first, last = "first_names.email_slug", "last_names.email_slug"
    return f"""case
            when {_uniform("estyle")} < 0.35 then {first} || '.' || {last}
            when {_uniform("estyle")} < 0.65
                then {first} || '.' || {last}
                || cast(1 + {_random_int("enum", 0)} % 99 as varchar)
            when {_uniform("estyle")} < 0.80 then substr({first}, 1, 1) || {last}
            when {_uniform("estyle")} < 0.90
                then {first} || '_' || {last}
                || cast(1940 + {_random_int("enum", 1)} % 66 as varchar)
            else {first} || cast(1 + {_random_int("enum", 2)} % 999 as varchar)
        end"""


def build_customers(workspace: Workspace) -> None:
    params = workspace.params
    country = weighted_choice(
        "random_uniform('country', customer_number)", [(c.code, c.weight) for c in COUNTRIES]
    )
    gender = weighted_choice(
        "random_uniform('gender', customer_number)",
        [("female", 0.48), ("male", 0.455), ("non-binary", 0.02), (None, 0.045)],
    )
    domain = weighted_choice(
        _uniform("dom"), [("example.com", 0.5), ("example.org", 0.25), ("example.net", 0.25)]
    )
    area_index = postcode_area_index(
        workspace, "numbered.country", "random_uniform('area', numbered.customer_number)"
    )
    first_name_index = (
        f"cast({_random_int('fn', 0)} % case drawn.first_name_pool "
        f"when 'any' then {2 * FIRST_NAMES_PER_GENDER} else {FIRST_NAMES_PER_GENDER} end "
        "as integer)"
    )
    workspace.run(f"""
        create table customer_identities as
        with numbered as (
            select
                customer_number,
                100000 + customer_number as customer_id,
                {country} as country,
                {gender} as gender
            from range(1, {params.customers + 1}) as numbers (customer_number)
        ),

        drawn as (
            select
                numbered.*,
                case numbered.gender
                    when 'female' then 'female'
                    when 'male' then 'male'
                    else 'any'
                end as first_name_pool,
                {area_index} as area_index
            from numbered
        )

        select
            drawn.customer_number,
            drawn.customer_id,
            drawn.country,
            drawn.gender,
            countries.currency,
            cast(({_signup_epoch(workspace)}) as bigint) as signup_epoch,
            first_names.name as first_name,
            last_names.name as last_name,
            {_email_local_part()} || '@' || {domain} as email_before_dedup,
            {_phone()} as phone,
            {_street_address("st", "streets")} as street_address,
            {_street_address("st2", "other_streets")} as other_street_address,
            {postcode("pc", NUMBER)} as postcode,
            postcode_areas.city,
            {_age_years()} as age_years,
            case
                when {_uniform("note")} < 0.07
                    then {sql_list(CRM_NOTES)}[
                        1 + cast({_random_int("note", 0)} % {len(CRM_NOTES)} as integer)
                    ]
            end as crm_note
        from drawn
        inner join countries
            on countries.code = drawn.country
        inner join postcode_areas
            on
                postcode_areas.country_code = drawn.country
                and postcode_areas.area_index = drawn.area_index
        inner join name_pool as first_names
            on
                first_names.country = drawn.country
                and first_names.pool = drawn.first_name_pool
                and first_names.name_index = {first_name_index}
        inner join name_pool as last_names
            on
                last_names.country = drawn.country
                and last_names.pool = 'last'
                and last_names.name_index
                = cast({_random_int("ln", 0)} % {LAST_NAMES} as integer)
        inner join name_pool as streets
            on
                streets.country = drawn.country
                and streets.pool = 'street'
                and streets.name_index = cast({_random_int("st", 0)} % {STREETS} as integer)
        inner join name_pool as other_streets
            on
                other_streets.country = drawn.country
                and other_streets.pool = 'street'
                and other_streets.name_index
                = cast({_random_int("st2", 0)} % {STREETS} as integer)
    """)
    _build_behaviour(workspace)
    workspace.drop("customer_identities")
    workspace.register(
        "customers",
        {
            "customer_id": "compact.customer_id",
            "first_name": "compact.first_name",
            "last_name": "compact.last_name",
            "email": "compact.email",
            "phone": "compact.phone",
            "birth_date": "compact.birth_date",
            "street_address": "compact.street_address",
            "postcode": "compact.postcode",
            "city": "compact.city",
            "country": "compact.country",
            "signup_at": "timestamp_text(compact.signup_epoch)",
            "gender": "compact.gender",
            "crm_note": "compact.crm_note",
        },
        fault_helpers="compact.other_street_address as other_street_address",
    )


def _build_behaviour(workspace: Workspace) -> None:
    """compact_customers: the identities, deduplicated emails, a birth date, and behaviour."""
    params = workspace.params
    window_start, end = params.window_start_epoch, params.end_epoch
    categories = len(CATEGORIES)

    def uniform(salt: str, alias: str = "exposed") -> str:
        return f"random_uniform('{salt}', {alias}.customer_number)"

    order_rate = (
        f"exp({ORDER_RATE_MU} + {ORDER_RATE_SIGMA} "
        f"* standard_normal({uniform('rz1', 'identities')}, {uniform('rz2', 'identities')}))"
    )
    channel = weighted_choice(
        uniform("pchan"), [("web", 0.5), ("app", 0.3), ("marketplace", 0.12), ("store", 0.08)]
    )
    device = weighted_choice(uniform("device"), [(1, 0.55), (0, 0.35), (2, 0.10)])
    cards = weighted_choice(uniform("ncards"), [(1, 0.7), (2, 0.25), (3, 0.05)])
    workspace.run(f"""
        create table compact_customers as
        with exposed as (
            select
                identities.*,
                greatest(identities.signup_epoch, {window_start}) as active_from,
                ({end} - greatest(identities.signup_epoch, {window_start})) / 86400.0
                    as exposure_days,
                case
                    when {uniform("never", "identities")} < {P_NEVER_BUYER} then 0.0
                    else {order_rate}
                end as order_rate,
                {category_by_demand(uniform("fav1", "identities"))} as favourite_category,
                row_number() over (
                    partition by identities.email_before_dedup
                    order by identities.customer_number
                ) as email_rank
            from customer_identities as identities
        )

        select
            exposed.customer_number,
            exposed.customer_id,
            exposed.customer_id as sort_key,
            exposed.country,
            exposed.gender,
            exposed.currency,
            exposed.signup_epoch,
            exposed.first_name,
            exposed.last_name,
            exposed.phone,
            exposed.street_address,
            exposed.postcode,
            exposed.city,
            exposed.crm_note,
            case
                when exposed.other_street_address = exposed.street_address
                    then exposed.street_address || ', Apt 2'
                else exposed.other_street_address
            end as other_street_address,
            case
                when exposed.email_rank = 1 then exposed.email_before_dedup
                else replace(
                    exposed.email_before_dedup,
                    '@',
                    '.' || cast(exposed.email_rank as varchar) || '@'
                )
            end as email,
            least(
                cast(
                    make_timestamp(
                        ({end} - cast(exposed.age_years * 365.25 * 86400 as bigint)) * 1000000
                    ) as date
                ),
                cast(
                    cast(make_timestamp(exposed.signup_epoch * 1000000) as date) - interval 18 year
                    as date
                )
            ) as birth_date,
            cast((exposed.active_from - {window_start}) // 86400 as integer) as first_day,
            case when {uniform("wkend")} < 0.22 then 1 else 0 end as profile,
            hour_of_day({uniform("phour")}) as preferred_hour,
            0.7 * {uniform("hfocus")} as hour_focus,
            exposed.favourite_category,
            case
                when {uniform("hasfav2")} < 0.5
                    then cast(
                        exposed.favourite_category + 1
                        + floor({uniform("fav2")} * {categories - 1}) as integer
                    ) % {categories}
            end as second_category,
            exposed.order_rate,
            case
                when
                    exposed.order_rate = 0
                    or exposed.active_from >= {end}
                    or {uniform("pbuy")}
                    >= 1 - exp(-{BUYER_HAZARD} * exposed.exposure_days / 365.0)
                    then 0
                else 1 + least(
                    {MAX_ORDERS - 1},
                    geometric_count(
                        exposed.order_rate * exposed.exposure_days / 365.0, {uniform("nord")}
                    )
                )
            end as order_count,
            case
                when exposed.active_from >= {end} then 0
                else geometric_count(
                    (0.4 + 0.6 * least(exposed.order_rate, 6.0))
                    * {BROWSE_SESSIONS_PER_YEAR} * exposed.exposure_days / 365.0,
                    {uniform("nbrowse")}
                )
            end as browse_session_count,
            {channel} as preferred_channel,
            {device} as device,
            {cards} as card_count,
            {uniform("engage")} as engagement,
            {uniform("priv")} as privacy_concern
        from exposed
    """)
