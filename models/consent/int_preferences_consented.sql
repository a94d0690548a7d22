{#
    Stated preferences (zero-party data), kept only for subjects with a
    valid personalization grant as of the run, and only while fresh
    (retention policy `preferences`). Pseudonymized here rather than in the
    pseudonymized layer, so preferences of non-consenting subjects are never
    stored at all.
#}
with

preferences as (
    select
        customer_id,
        stated_interests,
        preferred_channel,
        preferred_frequency,
        updated_at
    from {{ ref('stg_preference_center__preferences') }}
    where updated_at >= {{ retention_start('preferences') }}
),

consented_subjects as (
    select customer_key
    from {{ ref('int_consented_subjects') }}
    where consent_purpose = 'personalization'
),

preferences_keyed as (
    select
        {{ pseudonymize('customer', 'preferences.customer_id') }} as customer_key,
        preferences.stated_interests,
        preferences.preferred_channel,
        preferences.preferred_frequency,
        cast(preferences.updated_at as date) as updated_date
    from preferences
),

final as (
    select
        preferences_keyed.customer_key,
        preferences_keyed.stated_interests,
        preferences_keyed.preferred_channel,
        preferences_keyed.preferred_frequency,
        preferences_keyed.updated_date
    from preferences_keyed
    inner join consented_subjects
        on preferences_keyed.customer_key = consented_subjects.customer_key
)

select * from final
