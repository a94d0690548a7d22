{#
    The consent ledger as validity intervals: each decision holds from its
    recorded_at until the subject's next decision for the same purpose.
    Same-instant decisions are ordered withdrawal last, so a tie never
    grants. A grant under a policy version older than the purpose's
    min_policy_version (seed consent_purposes) is not a valid grant: the
    policy changed in a way that needs re-consent.
    Incremental by subject (docs/performance.md, Incremental runs): a
    subject's intervals depend on their own consent events and the seed
    alone (not on as_of), so a run recomputes only the subjects whose
    events differ from the decisions held (changed_subjects: new, late,
    replaced or purged events) or whose is_valid_grant the seed's
    min_policy_version now decides otherwise; delete+insert by customer_key
    replaces their rows, and the post-hook rows_follow_subjects deletes
    the subjects with no event left (erasure, retention).
#}
{{ config(
    materialized='incremental',
    incremental_strategy=keyed_incremental_strategy(),
    full_refresh=keyed_full_refresh(),
    unique_key='customer_key',
    on_schema_change='fail',
    post_hook="{{ rows_follow_subjects(ref('int_consent_events_pseudonymized')) }}",
) }}

with
{% if is_incremental() %}
subjects_to_load as (
    {{ changed_subjects(
        ref('int_consent_events_pseudonymized'),
        '(select consent_event_key, customer_key, consent_purpose, consent_action, policy_version,'
            ~ ' valid_from as recorded_at from ' ~ this ~ ')',
        ['consent_event_key', 'customer_key', 'consent_purpose', 'consent_action',
            'policy_version', 'recorded_at'],
    ) }}
    union all
    select loaded.customer_key
    from {{ this }} as loaded
    left join {{ ref('consent_purposes') }} as purposes
        on loaded.consent_purpose = purposes.consent_purpose
    where
        loaded.is_valid_grant is distinct from (
            loaded.consent_action = 'granted'
            and loaded.policy_version >= purposes.min_policy_version
        )
),
{% endif %}
consent_events as (
    select
        consent_event_key,
        customer_key,
        consent_purpose,
        consent_action,
        policy_version,
        recorded_at
    from {{ ref('int_consent_events_pseudonymized') }}
    {%- if is_incremental() %}
    where customer_key in (select subjects_to_load.customer_key from subjects_to_load)
    {%- endif %}
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
        {#- bigint on both engines (Spark's row_number() is an int) #}
        cast(row_number() over (
            partition by consent_events.customer_key, consent_events.consent_purpose
            order by
                consent_events.recorded_at,
                consent_events.consent_action = 'withdrawn',
                consent_events.consent_event_key
        ) as bigint) as decision_number
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
