{#-
    recorded_at keeps its full precision: it is the evidence of when consent
    was given or withdrawn, and orders decisions made on the same day.
    Incremental (docs/performance.md, Incremental runs): a run hashes only
    the events recorded after the late-data window or before the oldest row
    kept; delete+insert by consent_event_key lets a duplicate id's winner
    replace the row it beats. Window delete, retention and erasure purge:
    macros/incremental.
#}
{{ config(
    materialized='incremental',
    incremental_strategy=keyed_incremental_strategy(),
    full_refresh=keyed_full_refresh(),
    unique_key='consent_event_key',
    on_schema_change='fail',
    pre_hook="{{ incremental_window_delete() }}",
    post_hook="{{ purge_expired_and_erased() }}",
) }}

with

consent_events as (
    select
        consent_event_id,
        customer_id,
        consent_purpose,
        consent_action,
        consent_source,
        policy_version,
        recorded_at
    from {{ ref('stg_preference_center__consent_events') }}
    where
        recorded_at >= {{ retention_start('consent_events') }}
        and {{ incremental_rows_filter('recorded_at') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'consent_events', 'customer_id') }}
),

final as (
    select
        {{ pseudonymize('consent_event', 'consent_events.consent_event_id') }} as consent_event_key,
        customer_keys.customer_key,
        consent_events.consent_purpose,
        consent_events.consent_action,
        consent_events.consent_source,
        consent_events.policy_version,
        consent_events.recorded_at
    from consent_events
    inner join customer_keys
        on consent_events.customer_id = customer_keys.customer_id
)

select * from final
