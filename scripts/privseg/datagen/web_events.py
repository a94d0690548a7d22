"""web_events: browsing sessions of customers (timed like their orders), of anonymous visitors,
and the tracked part of web and app purchases, each a funnel of page views, product views, cart
and checkout events with a device, an IP address, a referrer, the country the collector geolocated
and the landing page's utm_campaign."""

from __future__ import annotations

from privseg.datagen.reference import (
    CATEGORIES,
    COUNTRIES,
    DEVICES,
    P_PERSONAL_UTM,
    PAGE_ACCOUNT,
    PAGE_CATEGORIES,
    PAGE_CHECKOUT,
    PAGE_HOME,
    PAGE_SEARCH,
    REFERRERS,
    USER_AGENT_OFFSETS,
    USER_AGENTS,
    USER_AGENTS_FLAT,
    UTM_CAMPAIGNS,
    WEB_EVENT_TYPES,
)
from privseg.datagen.sampling import category_by_demand, category_size, time_after_signup
from privseg.datagen.sql import sql_list, weighted_choice
from privseg.datagen.workspace import Workspace

ANONYMOUS_SESSIONS_PER_CUSTOMER_YEAR = 1.0
P_TRACKED_PURCHASE = 0.35  # share of web/app orders with a tracked purchase session
MAX_BROWSE_SESSIONS = 300

# Session kinds: how far down the funnel a session goes.
SESSION_PURCHASE, SESSION_BROWSE, SESSION_CART, SESSION_CHECKOUT = 0, 1, 2, 3
# Event type codes: index into WEB_EVENT_TYPES.
PAGE_VIEW, PRODUCT_VIEW, ADD_TO_CART, CHECKOUT_START, PURCHASE = range(5)
APP_DEVICE = DEVICES.index("app")
COUNTRY_CODES = [country.code for country in COUNTRIES]
P_HOME_COUNTRY = 0.95  # a customer's visit geolocated in their own country (else travelling)


def _utm_campaign(referrer: str) -> str:
    """The landing page's utm_campaign: drawn per the visit's referrer (UTM_CAMPAIGNS); a few
    of a customer's newsletter landings carry a personal tracking code."""
    uniform = "random_uniform('utm', compact.session_key)"
    branches = " ".join(
        f"when {referrer} = '{source}' then {weighted_choice(uniform, campaigns)}"
        for source, campaigns in UTM_CAMPAIGNS.items()
        if source is not None
    )
    personal = (
        f"when {referrer} = 'https://mail.example.com/' and compact.customer_id is not null "
        f"and random_uniform('putm', compact.session_key) < {P_PERSONAL_UTM} "
        "then 'nl-' || compact.customer_id"
    )
    direct = weighted_choice(uniform, UTM_CAMPAIGNS[None])
    return f"case {personal} {branches} when {referrer} is null then {direct} end"


def _offset_seconds(position: str, alias: str) -> str:
    """Seconds from a session's start to its event at `position`: about 20 s per event, slower
    for a slower session (pace), with jitter."""
    return (
        f"(({position}) * 20 + cast(floor(({position}) * {alias}.pace) as bigint) "
        f"+ (random_int('joff', {alias}.session_key, {position}) % 19))"
    )


def build_web_events(workspace: Workspace) -> None:
    _draft_sessions(workspace)
    _place_sessions(workspace)
    _build_events(workspace)
    referrer = weighted_choice("random_uniform('ref', compact.session_key)", REFERRERS)
    workspace.register(
        "web_events",
        {
            "event_id": "compact.event_id",
            "customer_id": "compact.customer_id",
            "session_id": "cast((cast(random_int('sid', compact.session_key, 1) as uhugeint) << 64)"
            " + random_int('sid', compact.session_key, 2) as uuid)",
            "event_type": f"{sql_list(WEB_EVENT_TYPES)}[compact.event_type_code + 1]",
            "page_category": f"{sql_list(PAGE_CATEGORIES)}[compact.page_category_code + 1]",
            "product_id": "compact.product_id",
            "occurred_at": "timestamp_iso(compact.occurred_ms)",
            "ip_address": "case when compact.is_home_ip then ipv4_address(compact.customer_id) "
            "else ipv4_address(compact.session_key) end",
            "user_agent": f"{sql_list(USER_AGENTS_FLAT)}[compact.user_agent_index + 1]",
            "referrer": f"case when compact.is_first_event then {referrer} "
            "else 'https://shop.example.com/' end",
            "geo_country": f"{sql_list(COUNTRY_CODES)}[compact.geo_country_index + 1]",
            "utm_campaign": f"case when compact.is_first_event then {_utm_campaign(referrer)} end",
        },
    )


def _draft_sessions(workspace: Workspace) -> None:
    """sessions_drafted: purchase sessions end at their order; customers' browsing sessions
    start at a time after signup, anonymous ones on any day by the demand calendar."""
    params = workspace.params
    window_start, end = params.window_start_epoch, params.end_epoch
    anonymous = max(
        0, round(params.customers * params.days / 365 * ANONYMOUS_SESSIONS_PER_CUSTOMER_YEAR)
    )

    def kind(alias: str, weights: tuple[float, float, float]) -> str:
        return weighted_choice(
            f"random_uniform('skind', {alias}.session_key)",
            list(zip((SESSION_BROWSE, SESSION_CART, SESSION_CHECKOUT), weights, strict=True)),
        )

    def browse_pages(alias: str) -> str:
        return (
            "1 + least(12, cast(floor(-ln(1 - random_uniform('nbody', "
            f"{alias}.session_key)) * 2.3) as integer))"
        )

    # Customers' browsing sessions: times sampled like orders (after signup).
    workspace.run(f"""
        create table browse_slots as
        select
            customer_id,
            profile,
            first_day,
            signup_epoch,
            preferred_hour,
            hour_focus,
            2000000000000 + customer_id * 1000
            + unnest(range(least(browse_session_count, {MAX_BROWSE_SESSIONS}))) as session_key
        from compact_customers
        where browse_session_count > 0
    """)
    workspace.run(f"""
        create table sessions_drafted as
        with customer_browsing as (
            select
                timed.session_key,
                timed.customer_id,
                timed.sampled_at as started_epoch
            from ({time_after_signup(workspace, "browse_slots", "session_key", "b")}) as timed
            where timed.sampled_at < {end}
        ),

        anonymous_targets as (
            select
                3000000000000 + visitor_number as session_key,
                random_uniform('anond', visitor_number) as target
            from range({anonymous}) as numbers (visitor_number)
        ),

        anonymous_browsing as (
            select
                anonymous_targets.session_key,
                {window_start} + demand_calendar.day * 86400
                + hour_of_day(random_uniform('anonh', anonymous_targets.session_key)) * 3600
                + cast(
                    floor(random_uniform('anons', anonymous_targets.session_key) * 3600) as bigint
                ) as started_epoch
            from anonymous_targets
            asof inner join demand_calendar
                on
                    demand_calendar.profile = 0
                    and anonymous_targets.target >= demand_calendar.cumulative_before
        ),

        all_sessions as (
            select
                1000000000000 + compact_orders.order_id as session_key,
                compact_orders.customer_id,
                compact_orders.order_id,
                {SESSION_PURCHASE} as kind,
                0 as browse_pages,
                cast(least(compact_orders.line_count, 2) as integer) as purchased_lines,
                cast(null as bigint) as started_epoch,
                compact_orders.ordered_epoch as ended_epoch,
                compact_orders.channel = 'app' as is_app
            from compact_orders
            where
                compact_orders.channel in ('web', 'app')
                and random_uniform('track', compact_orders.order_id) < {P_TRACKED_PURCHASE}
                and compact_orders.ordered_epoch >= {window_start + 3600}
            union all
            select
                customer_browsing.session_key,
                customer_browsing.customer_id,
                null,
                {kind("customer_browsing", (0.45, 0.35, 0.20))},
                {browse_pages("customer_browsing")},
                0,
                customer_browsing.started_epoch,
                null,
                false
            from customer_browsing
            union all
            select
                anonymous_browsing.session_key,
                null,
                null,
                {kind("anonymous_browsing", (0.70, 0.22, 0.08))},
                {browse_pages("anonymous_browsing")},
                0,
                anonymous_browsing.started_epoch,
                null,
                false
            from anonymous_browsing
        )

        select
            all_sessions.*,
            compact_customers.favourite_category,
            compact_customers.second_category,
            compact_customers.device as customer_device,
            compact_customers.country as customer_country,
            first_lines.product_id as line1_product,
            first_lines.category_index as line1_category,
            second_lines.product_id as line2_product,
            second_lines.category_index as line2_category
        from all_sessions
        left join compact_customers
            on compact_customers.customer_id = all_sessions.customer_id
        left join compact_order_items as first_lines
            on first_lines.order_id = all_sessions.order_id and first_lines.line = 0
        left join compact_order_items as second_lines
            on second_lines.order_id = all_sessions.order_id and second_lines.line = 1
    """)
    workspace.drop("browse_slots")


def _place_sessions(workspace: Workspace) -> None:
    """sessions: each session's length, pace, device and start; the part of it before the end
    of the data; and the id its first event gets (ids follow start times)."""
    params = workspace.params
    window_start, end = params.window_start_epoch, params.end_epoch
    device_counts = sql_list([len(USER_AGENTS[device]) for device in DEVICES])
    visiting_country = weighted_choice(
        "random_uniform('ageo', windowed.session_key)",
        [(index, country.weight) for index, country in enumerate(COUNTRIES)],
    )
    anonymous_device = weighted_choice(
        "random_uniform('adev', drafted.session_key)", [(1, 0.58), (0, 0.34), (2, 0.08)]
    )
    other_device = weighted_choice(
        "random_uniform('rdev', drafted.session_key)", [(1, 0.55), (0, 0.37), (2, 0.08)]
    )
    workspace.run(f"""
        create table sessions as
        with sized as (
            select
                drafted.*,
                case drafted.kind
                    when {SESSION_PURCHASE} then 3 + 2 * drafted.purchased_lines
                    when {SESSION_BROWSE} then drafted.browse_pages
                    when {SESSION_CART} then drafted.browse_pages + 2
                    else drafted.browse_pages + 3
                end as event_count,
                60 * random_uniform('pace', drafted.session_key) as pace,
                case
                    when drafted.is_app then {APP_DEVICE}
                    when drafted.customer_id is null then {anonymous_device}
                    when random_uniform('owndev', drafted.session_key) < 0.75
                        then drafted.customer_device
                    else {other_device}
                end as device
            from sessions_drafted as drafted
        ),

        started as (
            select
                sized.*,
                coalesce(
                    sized.started_epoch,
                    sized.ended_epoch - {_offset_seconds("sized.event_count - 1", "sized")}
                ) as start_epoch
            from sized
        ),

        windowed as (
            select
                started.*,
                case
                    when started.kind = {SESSION_PURCHASE} then started.event_count
                    else least(
                        started.event_count,
                        greatest(
                            0,
                            ({end} - started.start_epoch - 20)
                            // (20 + cast(ceil(started.pace) as bigint)) + 1
                        )
                    )
                end as events_in_window
            from started
            where started.start_epoch >= {window_start}
        )

        select
            windowed.session_key,
            windowed.customer_id,
            windowed.kind,
            windowed.browse_pages,
            windowed.purchased_lines,
            windowed.pace,
            windowed.start_epoch,
            windowed.favourite_category,
            windowed.second_category,
            windowed.line1_product,
            windowed.line1_category,
            windowed.line2_product,
            windowed.line2_category,
            cast(windowed.events_in_window as bigint) as events_in_window,
            windowed.customer_id is not null
            and random_uniform('homeip', windowed.session_key) < 0.7 as is_home_ip,
            cast(
                {sql_list(USER_AGENT_OFFSETS)}[windowed.device + 1]
                + random_int('ua', windowed.session_key, 0) % {device_counts}[windowed.device + 1]
                as integer
            ) as user_agent_index,
            cast(
                case
                    when
                        windowed.customer_id is not null
                        and random_uniform('geo', windowed.session_key) < {P_HOME_COUNTRY}
                        then list_position({sql_list(COUNTRY_CODES)}, windowed.customer_country) - 1
                    else {visiting_country}
                end as tinyint
            ) as geo_country_index,
            sum(windowed.events_in_window) over (
                order by windowed.start_epoch, windowed.session_key rows unbounded preceding
            ) - windowed.events_in_window as event_id_base
        from windowed
        where windowed.events_in_window > 0
    """)
    workspace.drop("sessions_drafted")


def _build_events(workspace: Workspace) -> None:
    """compact_web_events: one row per event of each session, down its funnel."""
    categories = len(CATEGORIES)

    def uniform(salt: str, alias: str, position: str = "position") -> str:
        return f"random_uniform_2('{salt}', {alias}.session_key, {alias}.{position})"

    page_of_category = (
        "case when ranked.customer_id is not null "
        f"and {uniform('pcf', 'ranked')} < 0.6 then ranked.favourite_category "
        f"else cast(floor({uniform('pcr', 'ranked')} * {categories}) as integer) end"
    )
    browsed_category = category_by_demand(uniform("gcat", "typed", "product_draw_key"))
    workspace.run(f"""
        create table compact_web_events as
        with positioned as (
            select
                session_key,
                customer_id,
                kind,
                browse_pages,
                purchased_lines,
                pace,
                start_epoch,
                event_id_base,
                favourite_category,
                second_category,
                line1_product,
                line1_category,
                line2_product,
                line2_category,
                is_home_ip,
                user_agent_index,
                geo_country_index,
                unnest(range(events_in_window)) as position
            from sessions
        ),

        typed as (
            select
                positioned.*,
                case
                    when positioned.kind = {SESSION_PURCHASE}
                        then case
                            when positioned.position = 0 then {PAGE_VIEW}
                            when
                                positioned.position <= 2 * positioned.purchased_lines
                                and positioned.position % 2 = 1
                                then {PRODUCT_VIEW}
                            when positioned.position <= 2 * positioned.purchased_lines
                                then {ADD_TO_CART}
                            when positioned.position = 2 * positioned.purchased_lines + 1
                                then {CHECKOUT_START}
                            else {PURCHASE}
                        end
                    when positioned.position < positioned.browse_pages
                        then case
                            when
                                positioned.position > 0
                                and {uniform("btype", "positioned")} < 0.5
                                then {PRODUCT_VIEW}
                            else {PAGE_VIEW}
                        end
                    when positioned.position = positioned.browse_pages then {PRODUCT_VIEW}
                    when positioned.position = positioned.browse_pages + 1 then {ADD_TO_CART}
                    else {CHECKOUT_START}
                end as event_type_code,
                case
                    when
                        positioned.kind <> {SESSION_PURCHASE}
                        and positioned.position >= positioned.browse_pages
                        then -1
                    else positioned.position
                end as product_draw_key
            from positioned
        ),

        categorized as (
            select
                typed.*,
                case
                    when
                        typed.event_type_code in ({PRODUCT_VIEW}, {ADD_TO_CART})
                        and typed.kind <> {SESSION_PURCHASE}
                        then case
                            when
                                typed.customer_id is not null
                                and {uniform("ecat", "typed", "product_draw_key")} < 0.5
                                then typed.favourite_category
                            when
                                typed.customer_id is not null
                                and {uniform("ecat", "typed", "product_draw_key")} < 0.7
                                then coalesce(typed.second_category, typed.favourite_category)
                            else {browsed_category}
                        end
                end as browsed_category
            from typed
        ),

        ranked as (
            select
                categorized.*,
                cast(
                    floor(
                        {category_size(workspace, "categorized.browsed_category")}
                        * pow({uniform("erank", "categorized", "product_draw_key")}, 2.2)
                    ) as integer
                ) as browsed_rank
            from categorized
        )

        select
            ranked.event_id_base + ranked.position + 1 as event_id,
            ranked.event_id_base + ranked.position + 1 as sort_key,
            ranked.customer_id,
            ranked.session_key,
            cast(ranked.event_type_code as tinyint) as event_type_code,
            cast(
                case
                    when ranked.event_type_code in ({CHECKOUT_START}, {PURCHASE})
                        then {PAGE_CHECKOUT}
                    when ranked.event_type_code in ({PRODUCT_VIEW}, {ADD_TO_CART})
                        then coalesce(
                            compact_products.category_index,
                            case
                                when ranked.position <= 2 then ranked.line1_category
                                else ranked.line2_category
                            end
                        )
                    when ranked.position = 0
                        then case
                            when {uniform("pcat", "ranked")} < 0.45 then {PAGE_HOME}
                            when {uniform("pcat", "ranked")} < 0.65 then {PAGE_SEARCH}
                            else {page_of_category}
                        end
                    else case
                        when {uniform("pcat", "ranked")} < 0.15 then {PAGE_SEARCH}
                        when {uniform("pcat", "ranked")} < 0.22 then {PAGE_ACCOUNT}
                        when {uniform("pcat", "ranked")} < 0.30 then {PAGE_HOME}
                        else {page_of_category}
                    end
                end as tinyint
            ) as page_category_code,
            case
                when ranked.event_type_code in ({PRODUCT_VIEW}, {ADD_TO_CART})
                    then coalesce(
                        compact_products.product_id,
                        case
                            when ranked.position <= 2 then ranked.line1_product
                            else ranked.line2_product
                        end
                    )
            end as product_id,
            (ranked.start_epoch + {_offset_seconds("ranked.position", "ranked")}) * 1000
            + (random_int('ems', ranked.session_key, ranked.position) % 1000) as occurred_ms,
            ranked.is_home_ip,
            cast(ranked.user_agent_index as tinyint) as user_agent_index,
            ranked.geo_country_index,
            ranked.position = 0 as is_first_event
        from ranked
        left join compact_products
            on
                compact_products.category_index = ranked.browsed_category
                and compact_products.popularity_rank = ranked.browsed_rank
    """)
    workspace.drop("sessions")
