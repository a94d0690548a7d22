"""The SQL functions (DuckDB macros) the generator's queries call.

Randomness: every random number comes from DuckDB's deterministic hash() of (seed, a salt naming
its use, row ids), hashed again, so the same arguments always give the same data. The salts are
part of the data: changing one changes the rows that use it.

    random_int(salt, a, b)         a random 64-bit unsigned integer
    random_uniform(salt, a)        uniform in [0, 1)
    random_uniform_2(salt, a, b)   uniform in [0, 1), of two ids
    standard_normal(u1, u2)        a standard normal from two uniforms (Box-Muller)
    geometric_count(mean, u)       a count >= 0 with the given mean (geometric), from a uniform
    hour_of_day(u)                 an hour, distributed as HOUR_WEIGHTS, from a uniform

Rendering: timestamp_text(epoch_seconds) as 'YYYY-MM-DD HH:MM:SS', timestamp_iso(epoch_ms) as
'YYYY-MM-DDTHH:MM:SS.mmmZ', ipv4_address(id) a public-looking IPv4 address.
"""

from __future__ import annotations

import duckdb

from privseg.datagen.demand_calendar import hour_lookup
from privseg.datagen.reference import PUBLIC_FIRST_OCTETS
from privseg.datagen.sql import sql_list

UNIT_SCALE = "9007199254740992.0"  # 2^53: the top 53 bits of a hash as a double in [0, 1)


def create_functions(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    # hash(x, y, ...) only combines the per-argument hashes, which leaves values for
    # different salts strongly correlated; hashing the result again decorrelates them.
    macros = [
        f"random_int(salt, a, b) as hash(hash({seed}, salt, a, b))",
        f"random_uniform(salt, a) as "
        f"cast(hash(hash({seed}, salt, a)) >> 11 as double) / {UNIT_SCALE}",
        f"random_uniform_2(salt, a, b) as cast(random_int(salt, a, b) >> 11 as double) "
        f"/ {UNIT_SCALE}",
        "standard_normal(u1, u2) as sqrt(-2 * ln(1 - u1)) * cos(2 * pi() * u2)",
        f"hour_of_day(u) as {sql_list(hour_lookup())}[1 + cast(floor(u * 1000) as integer)]",
        "timestamp_text(epoch_seconds) as "
        "cast(make_timestamp(cast(epoch_seconds as bigint) * 1000000) as varchar)",
        "timestamp_iso(epoch_ms) as "
        "strftime(make_timestamp(cast(epoch_ms as bigint) * 1000), '%Y-%m-%dT%H:%M:%S.%gZ')",
        "geometric_count(mean, u) as case when mean <= 0 then 0 "
        "else cast(floor(ln(1 - u) / ln(mean / (1 + mean))) as bigint) end",
        f"""ipv4_address(id) as
            cast(
                {sql_list(PUBLIC_FIRST_OCTETS)}[
                    1 + cast(random_int('ip', id, 1) % {len(PUBLIC_FIRST_OCTETS)} as integer)
                ] as varchar
            )
            || '.' || cast(random_int('ip', id, 2) % 256 as varchar)
            || '.' || cast(random_int('ip', id, 3) % 256 as varchar)
            || '.' || cast(1 + random_int('ip', id, 4) % 254 as varchar)""",
    ]
    for macro in macros:
        con.execute(f"create macro {macro}").fetchall()
