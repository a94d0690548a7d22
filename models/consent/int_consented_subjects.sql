{#
    The subjects in scope of each purpose as of the run: every
    consent-filtered mart inner-joins this model on (customer_key,
    consent_purpose) and declares the purpose in meta.privacy.consent_purpose.
#}
with

consent_state as (
    select
        customer_key,
        consent_purpose,
        state_reason
    from {{ ref('int_consent_state') }}
    where is_granted
),

final as (
    select
        customer_key,
        consent_purpose,
        state_reason
    from consent_state
)

select * from final
