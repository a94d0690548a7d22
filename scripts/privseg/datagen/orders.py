"""orders and order_items: each customer's orders at times that follow the demand calendar,
their lines (mostly from the customer's favourite categories, discounted more often in promotion
weeks), and order totals that equal the sum of their lines."""

from __future__ import annotations

from privseg.datagen.sampling import (
    category_by_demand,
    category_size,
    postcode,
    postcode_area_index,
    time_after_signup,
)
from privseg.datagen.sql import weighted_choice
from privseg.datagen.workspace import Workspace

DISCOUNTS = "[0.10, 0.15, 0.20, 0.25, 0.30]"


def build_orders(workspace: Workspace) -> None:
    """compact_orders and compact_order_items."""
    end = workspace.params.end_epoch
    workspace.run("""
        create table order_slots as
        select
            customer_id,
            profile,
            first_day,
            signup_epoch,
            preferred_hour,
            hour_focus,
            customer_id * 100 + unnest(range(order_count)) as order_key
        from compact_customers
        where order_count > 0
    """)
    workspace.run(f"""
        create table orders_timed as
        select
            timed.order_key,
            timed.customer_id,
            timed.sampled_at as ordered_epoch,
            timed.is_promotion,
            1000000 + row_number() over (order by timed.sampled_at, timed.order_key) as order_id
        from ({time_after_signup(workspace, "order_slots", "order_key", "o")}) as timed
        where timed.sampled_at < {end}
    """)
    workspace.drop("order_slots")
    _build_order_items(workspace)
    _build_compact_orders(workspace)
    workspace.drop("orders_timed")
    workspace.register(
        "orders",
        {
            "order_id": "compact.order_id",
            "customer_id": "compact.customer_id",
            "ordered_at": "timestamp_text(compact.ordered_epoch)",
            "status": "compact.status",
            "channel": "compact.channel",
            "currency": "compact.currency",
            "total_amount": "compact.total_amount",
            "shipping_postcode": "compact.shipping_postcode",
            "payment_card_last4": "compact.card_last4",
        },
    )
    workspace.register(
        "order_items",
        {
            "order_item_id": "compact.order_item_id",
            "order_id": "compact.order_id",
            "product_id": "compact.product_id",
            "quantity": "compact.quantity",
            "unit_price": "compact.unit_price",
        },
    )


def _build_order_items(workspace: Workspace) -> None:
    """Lines of one order that fall into the same category take consecutive popularity ranks
    from a per-(order, category) start, so an order never lists a product twice."""

    def uniform(salt: str, second: str = "line") -> str:
        return f"random_uniform_2('{salt}', lines.order_id, lines.{second})"

    line_count = weighted_choice(
        "random_uniform('nitems', orders_timed.order_id)",
        [(1, 0.42), (2, 0.28), (3, 0.16), (4, 0.09), (5, 0.05)],
    )
    quantity = weighted_choice(
        "random_uniform_2('qty', ranked.order_id, ranked.line)",
        [(1, 0.86), (2, 0.10), (3, 0.03), (4, 0.01)],
    )
    size = category_size(workspace, "categorized.category_index")
    workspace.run(f"""
        create table compact_order_items as
        with lines as (
            select
                orders_timed.order_id,
                orders_timed.is_promotion,
                compact_customers.favourite_category,
                compact_customers.second_category,
                unnest(range({line_count})) as line
            from orders_timed
            inner join compact_customers
                on compact_customers.customer_id = orders_timed.customer_id
        ),

        categorized as (
            select
                lines.order_id,
                lines.is_promotion,
                lines.line,
                case
                    when {uniform("icat")} < 0.55 then lines.favourite_category
                    when {uniform("icat")} < 0.75
                        then coalesce(lines.second_category, lines.favourite_category)
                    else {category_by_demand(uniform("icat2"))}
                end as category_index
            from lines
        ),

        ranked as (
            select
                categorized.*,
                cast(
                    (
                        cast(
                            floor(
                                {size}
                                * pow(
                                    random_uniform_2(
                                        'irank', categorized.order_id, categorized.category_index
                                    ),
                                    2.2
                                )
                            ) as integer
                        )
                        + categorized.line
                    ) % {size} as integer
                ) as popularity_rank
            from categorized
        )

        select
            row_number() over (order by ranked.order_id, ranked.line) as order_item_id,
            row_number() over (order by ranked.order_id, ranked.line) as sort_key,
            ranked.order_id,
            ranked.line,
            compact_products.product_id,
            compact_products.category_index,
            {quantity} as quantity,
            cast(
                case
                    when
                        random_uniform_2('disc', ranked.order_id, ranked.line)
                        < case when ranked.is_promotion then 0.6 else 0.15 end
                        then round(
                            compact_products.list_price
                            * (
                                1 - cast(
                                    {DISCOUNTS}[
                                        1 + cast(
                                            random_int('discp', ranked.order_id, ranked.line) % 5
                                            as integer
                                        )
                                    ] as decimal(4, 2)
                                )
                            ),
                            2
                        )
                    else compact_products.list_price
                end as decimal(12, 2)
            ) as unit_price
        from ranked
        inner join compact_products
            on
                compact_products.category_index = ranked.category_index
                and compact_products.popularity_rank = ranked.popularity_rank
    """)


def _build_compact_orders(workspace: Workspace) -> None:
    end = workspace.params.end_epoch

    def uniform(salt: str) -> str:
        return f"random_uniform('{salt}', orders_timed.order_id)"

    # Orders of the last four days are mostly still shipping.
    recent_status = weighted_choice(
        uniform("st"), [("shipped", 0.72), ("completed", 0.22), ("cancelled", 0.06)]
    )
    settled_status = weighted_choice(
        uniform("st"),
        [("completed", 0.868), ("cancelled", 0.05), ("returned", 0.06), ("shipped", 0.022)],
    )
    status = f"""case
            when orders_timed.ordered_epoch >= {end - 4 * 86400} then {recent_status}
            else {settled_status}
        end"""
    other_channel = weighted_choice(
        uniform("ch2"), [("web", 0.48), ("app", 0.30), ("marketplace", 0.14), ("store", 0.08)]
    )
    area_index = postcode_area_index(workspace, "compact_customers.country", uniform("sarea"))
    workspace.run(f"""
        create table compact_orders as
        with totals as (
            select
                order_id,
                cast(sum(quantity * unit_price) as decimal(14, 2)) as total_amount,
                count(*) as line_count
            from compact_order_items
            group by order_id
        )

        select
            orders_timed.order_id,
            orders_timed.order_id as sort_key,
            orders_timed.customer_id,
            orders_timed.ordered_epoch,
            totals.total_amount,
            totals.line_count,
            {status} as status,
            case
                when {uniform("chp")} < 0.75 then compact_customers.preferred_channel
                else {other_channel}
            end as channel,
            compact_customers.currency,
            case
                when {uniform("ship")} < 0.92 then compact_customers.postcode
                else {postcode("spc", "orders_timed.order_id")}
            end as shipping_postcode,
            lpad(
                cast(
                    random_int(
                        'card',
                        compact_customers.customer_id,
                        cast(floor({uniform("cardk")} * compact_customers.card_count) as integer)
                    ) % 10000 as varchar
                ),
                4,
                '0'
            ) as card_last4
        from orders_timed
        inner join totals
            on totals.order_id = orders_timed.order_id
        inner join compact_customers
            on compact_customers.customer_id = orders_timed.customer_id
        inner join postcode_areas
            on
                postcode_areas.country_code = compact_customers.country
                and postcode_areas.area_index = {area_index}
    """)
