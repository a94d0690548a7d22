"""The lookup tables the generator's queries join: postcode areas (from the seed the dbt project
uses too), countries, name and street pools, product categories, and the demand calendar."""

from __future__ import annotations

import re
import unicodedata

import duckdb

from privseg.core.settings import PROJECT_DIR
from privseg.datagen.demand_calendar import demand_calendar
from privseg.datagen.parameters import Parameters
from privseg.datagen.reference import CATEGORIES, COUNTRIES
from privseg.datagen.sql import sql_literal

POSTCODE_AREAS_CSV = PROJECT_DIR / "seeds" / "reference" / "postcode_areas.csv"


def email_slug(text: str) -> str:
    """ASCII lower-case letters only (for e-mail local parts)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", ascii_text.lower())


def create_lookups(con: duckdb.DuckDBPyConnection, params: Parameters) -> dict[str, int]:
    """Create the lookup tables; return the number of postcode areas per country code."""
    csv_path = str(POSTCODE_AREAS_CSV).replace("'", "''")
    con.execute(f"""
        create table postcode_areas as
        select
            country_code,
            postcode_prefix,
            city,
            cast(
                row_number() over (partition by country_code order by postcode_prefix) - 1
                as integer
            ) as area_index
        from read_csv('{csv_path}', header = true, all_varchar = true)
    """).fetchall()

    country_rows, name_rows = [], []
    for country in COUNTRIES:
        code = sql_literal(country.code)
        country_rows.append(
            f"({code}, {country.weight!r}, {sql_literal(country.currency)}, "
            f"{str(country.number_first).lower()})"
        )
        pools = {
            "street": country.streets,
            "female": country.female_names,
            "male": country.male_names,
            "any": country.female_names + country.male_names,
            "last": country.last_names,
        }
        for pool, names in pools.items():
            name_rows += [
                f"({code}, '{pool}', {index}, {sql_literal(name)}, {sql_literal(email_slug(name))})"
                for index, name in enumerate(names)
            ]
    con.execute(f"""
        create table countries as
        select
            country_rows.*,
            cast(
                (
                    select count(*)
                    from postcode_areas
                    where postcode_areas.country_code = country_rows.code
                ) as integer
            ) as area_count
        from (values {", ".join(country_rows)})
            as country_rows (code, weight, currency, number_first)
    """).fetchall()
    (missing,) = con.execute(
        "select string_agg(code, ',') from countries where area_count = 0"
    ).fetchone()
    if missing:
        raise RuntimeError(f"postcode_areas.csv has no rows for countries {missing}")
    con.execute(f"""
        create table name_pool as
        select *
        from (values {", ".join(name_rows)})
            as name_rows (country, pool, name_index, name, email_slug)
    """).fetchall()

    category_rows, subcategory_rows = [], []
    for category_index, category in enumerate(CATEGORIES):
        category_rows.append(
            f"({category_index}, {sql_literal(category.name)}, {category.weight!r}, "
            f"{category.median_price!r}, {len(category.subcategories)})"
        )
        for subcategory_index, subcategory in enumerate(category.subcategories):
            subcategory_rows.append(
                f"({category_index}, {subcategory_index}, {sql_literal(subcategory.name)}, "
                f"{sql_literal(subcategory.noun)}, {subcategory.price_factor!r})"
            )
    con.execute(f"""
        create table categories as
        select *
        from (values {", ".join(category_rows)})
            as category_rows (
                category_index, category, weight, median_price, subcategory_count
            )
    """).fetchall()
    con.execute(f"""
        create table subcategories as
        select *
        from (values {", ".join(subcategory_rows)})
            as subcategory_rows (
                category_index, subcategory_index, subcategory, noun, price_factor
            )
    """).fetchall()

    profiles, days, cumulative_before, promotions = demand_calendar(params)
    con.execute(
        """
        create table demand_calendar as
        select
            unnest(cast($1 as integer[])) as profile,
            unnest(cast($2 as integer[])) as day,
            unnest(cast($3 as double[])) as cumulative_before,
            unnest(cast($4 as boolean[])) as is_promotion
        """,
        [profiles, days, cumulative_before, promotions],
    ).fetchall()
    return dict(con.execute("select code, area_count from countries order by code").fetchall())
