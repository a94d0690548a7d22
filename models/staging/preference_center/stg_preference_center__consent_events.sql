with

consent_events as (
    select * from {{ ref('base_preference_center__consent_events') }}
),

valid_consent_events_renamed as (
    select
        consent_event_id,
        customer_id,
        purpose as consent_purpose,
        action as consent_action,
        source as consent_source,
        policy_version,
        recorded_at
    from consent_events
    where
        _reject_reason is null
        and {{ not_erased('customer_id') }}
)

select * from valid_consent_events_renamed
