{#
    The consent ledger as validity intervals: each decision holds from its
    recorded_at until the subject's next decision for the same purpose.
    Same-instant decisions are ordered withdrawal last, so a tie never
    grants. A grant under a policy version older than the purpose's
    min_policy_version (seed consent_purposes) is not a valid grant: the
    policy changed in a way that needs re-consent.
#}
with

consent_events as (
    select
        consent_event_key,
        customer_key,
        consent_purpose,
        consent_action,
        policy_version,
        recorded_at
    from {{ ref('int_consent_events_pseudonymized') }}
),

consent_purposes as (
    select
        consent_purpose,
        min_policy_version
    from {{ ref('consent_purposes') }}
),

decisions_ordered as (
    select
        consent_events.consent_event_key,
        consent_events.customer_key,
        consent_events.consent_purpose,
        consent_events.consent_action,
        consent_events.policy_version,
        consent_events.recorded_at as valid_from,
        lead(consent_events.recorded_at) over (
            partition by consent_events.customer_key, consent_events.consent_purpose
            order by
                consent_events.recorded_at,
                consent_events.consent_action = 'withdrawn',
                consent_events.consent_event_key
        ) as valid_to,
        row_number() over (
            partition by consent_events.customer_key, consent_events.consent_purpose
            order by
                consent_events.recorded_at,
                consent_events.consent_action = 'withdrawn',
                consent_events.consent_event_key
        ) as decision_number
    from consent_events
),

final as (
    select
        decisions_ordered.consent_event_key,
        decisions_ordered.customer_key,
        decisions_ordered.consent_purpose,
        decisions_ordered.decision_number,
        decisions_ordered.consent_action,
        decisions_ordered.policy_version,
        decisions_ordered.valid_from,
        decisions_ordered.valid_to,
        decisions_ordered.consent_action = 'granted'
            and decisions_ordered.policy_version >= consent_purposes.min_policy_version
            as is_valid_grant
    from decisions_ordered
    inner join consent_purposes
        on decisions_ordered.consent_purpose = consent_purposes.consent_purpose
)

select * from final
