"""erasure_requests: about 1% of customers ask to be erased; recent requests may still be open
(received), older ones are completed or, rarely, rejected."""

from __future__ import annotations

from privseg.datagen.sql import weighted_choice
from privseg.datagen.workspace import Workspace


def build_erasure_requests(workspace: Workspace) -> None:
    params = workspace.params
    end = params.end_epoch
    status = weighted_choice(
        "random_uniform('erst', numbered.request_id)",
        [("received", 0.6), ("completed", 0.37), ("rejected", 0.03)],
    )
    settled_status = weighted_choice(
        "random_uniform('erst', numbered.request_id)", [("completed", 0.93), ("rejected", 0.07)]
    )
    workspace.run(f"""
        create table compact_erasure_requests as
        with requesting as (
            select
                customer_id,
                greatest(signup_epoch, {params.window_start_epoch}) as earliest_epoch
            from compact_customers
            where random_uniform('erase', customer_id) < 0.01
        ),

        timed as (
            select
                requesting.customer_id,
                requesting.earliest_epoch
                + cast(
                    floor(
                        random_uniform('erat', requesting.customer_id)
                        * ({end} - requesting.earliest_epoch)
                    ) as bigint
                ) as requested_epoch
            from requesting
        ),

        numbered as (
            select
                timed.*,
                row_number() over (order by timed.requested_epoch, timed.customer_id)
                    as request_id
            from timed
            where timed.requested_epoch < {end}
        )

        select
            numbered.request_id as sort_key,
            numbered.customer_id,
            numbered.requested_epoch,
            case
                when numbered.requested_epoch >= {end - 30 * 86400} then {status}
                else {settled_status}
            end as status
        from numbered
    """)
    workspace.register(
        "erasure_requests",
        {
            "request_id": "compact.sort_key",
            "customer_id": "compact.customer_id",
            "requested_at": "timestamp_text(compact.requested_epoch)",
            "status": "compact.status",
        },
    )
