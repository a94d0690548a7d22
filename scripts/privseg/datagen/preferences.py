"""preferences: for about 30% of customers, the interests, channel and frequency they stated in
the preference center (interests mostly their favourite categories)."""

from __future__ import annotations

from privseg.datagen.reference import CATEGORY_NAMES
from privseg.datagen.sql import sql_list, weighted_choice
from privseg.datagen.workspace import Workspace


def build_preferences(workspace: Workspace) -> None:
    categories = len(CATEGORY_NAMES)

    def uniform(salt: str, alias: str = "stating") -> str:
        return f"random_uniform('{salt}', {alias}.customer_id)"

    channel = weighted_choice(
        uniform("pfch"), [("email", 0.45), ("app", 0.25), ("sms", 0.10), ("none", 0.20)]
    )
    frequency = weighted_choice(
        uniform("pffr"), [("weekly", 0.55), ("monthly", 0.35), ("daily", 0.10)]
    )
    customers = "compact_customers"
    workspace.run(f"""
        create table compact_preferences as
        with stating as (
            select
                {customers}.customer_id,
                {customers}.signup_epoch,
                [
                    case
                        when {uniform("pi1", customers)} < 0.7 then {customers}.favourite_category
                        else cast(
                            random_int('pi1c', {customers}.customer_id, 0) % {categories}
                            as integer
                        )
                    end,
                    case
                        when
                            {customers}.second_category is not null
                            and {uniform("pi2", customers)} < 0.6
                            then {customers}.second_category
                    end,
                    case
                        when {uniform("pi3", customers)} < 0.3
                            then cast(
                                random_int('pi3c', {customers}.customer_id, 0) % {categories}
                                as integer
                            )
                    end
                ] as interest_indexes
            from {customers}
            where {uniform("haspref", customers)} < 0.3
        )

        select
            stating.customer_id,
            stating.customer_id as sort_key,
            array_to_string(
                list_sort(
                    list_distinct(
                        list_transform(
                            list_filter(stating.interest_indexes, lambda idx: idx is not null),
                            lambda idx: {sql_list(CATEGORY_NAMES)}[idx + 1]
                        )
                    )
                ),
                '|'
            ) as stated_interests,
            {channel} as preferred_channel,
            {frequency} as preferred_frequency,
            stating.signup_epoch
            + cast(
                floor(
                    pow({uniform("pfts")}, 0.7)
                    * ({workspace.params.end_epoch} - stating.signup_epoch - 1)
                ) as bigint
            ) as updated_epoch
        from stating
    """)
    workspace.register(
        "preferences",
        {
            "customer_id": "compact.customer_id",
            "stated_interests": "compact.stated_interests",
            "preferred_channel": "compact.preferred_channel",
            "preferred_frequency": "compact.preferred_frequency",
            "updated_at": "timestamp_text(compact.updated_epoch)",
        },
    )
