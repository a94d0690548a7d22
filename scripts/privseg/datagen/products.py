"""products: the catalogue, with names, categories and list prices, and each product's
popularity rank within its category (which the orders and web events draw from)."""

from __future__ import annotations

from privseg.datagen.reference import ADJECTIVES, BRANDS, CATEGORIES, PRODUCT_COUNT
from privseg.datagen.sampling import category_by_demand
from privseg.datagen.sql import sql_list
from privseg.datagen.workspace import Workspace


def build_products(workspace: Workspace) -> None:
    def uniform(salt: str) -> str:
        return f"random_uniform('{salt}', priced.product_number)"

    def random_int(salt: str, position: int) -> str:
        return f"random_int('{salt}', priced.product_number, {position})"

    workspace.run(f"""
        create table compact_products as
        with numbered as (
            select
                product_number,
                1000 + product_number as product_id,
                {category_by_demand("random_uniform('pcat', product_number)")} as category_index
            from range(1, {PRODUCT_COUNT + 1}) as numbers (product_number)
        ),

        priced as (
            select
                numbered.*,
                categories.category,
                subcategories.subcategory,
                subcategories.noun,
                categories.median_price * subcategories.price_factor
                * exp(
                    0.5 * standard_normal(
                        random_uniform('pz1', numbered.product_number),
                        random_uniform('pz2', numbered.product_number)
                    )
                ) as raw_price
            from numbered
            inner join categories
                on categories.category_index = numbered.category_index
            inner join subcategories
                on
                    subcategories.category_index = numbered.category_index
                    and subcategories.subcategory_index
                    = floor(
                        random_uniform('psub', numbered.product_number)
                        * categories.subcategory_count
                    )
        )

        select
            priced.product_id,
            priced.product_id as sort_key,
            priced.category_index,
            priced.category,
            priced.subcategory,
            {sql_list(BRANDS)}[1 + cast({random_int("brand", 0)} % {len(BRANDS)} as integer)]
            || ' '
            || {sql_list(ADJECTIVES)}[
                1 + cast({random_int("adj", 0)} % {len(ADJECTIVES)} as integer)
            ]
            || ' ' || priced.noun
            || case
                when {uniform("model")} < 0.35
                    then ' ' || chr(65 + cast({random_int("model", 0)} % 26 as integer))
                    || cast(100 + {random_int("model", 1)} % 900 as varchar)
                else ''
            end as product_name,
            cast(
                case
                    when priced.raw_price >= 100 then floor(priced.raw_price / 10) * 10 + 9.99
                    when {uniform("p49")} < 0.3 then greatest(floor(priced.raw_price), 0) + 0.49
                    else greatest(floor(priced.raw_price), 1) - 0.01
                end as decimal(10, 2)
            ) as list_price,
            cast(
                row_number() over (
                    partition by priced.category_index
                    order by {uniform("pop")}, priced.product_number
                ) - 1 as integer
            ) as popularity_rank
        from priced
    """)
    sizes = dict(
        workspace.con.execute(
            "select category_index, count(*) from compact_products group by category_index"
        ).fetchall()
    )
    workspace.category_sizes = [int(sizes.get(index, 0)) for index in range(len(CATEGORIES))]
    if min(workspace.category_sizes) == 0:
        raise RuntimeError("every product category needs at least one product")
    workspace.register(
        "products",
        {
            "product_id": "compact.product_id",
            "product_name": "compact.product_name",
            "category": "compact.category",
            "subcategory": "compact.subcategory",
            "list_price": "compact.list_price",
        },
    )
