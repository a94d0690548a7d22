{#
    preferences_consented_for(purpose): the whole query of a consent-layer
    preferences model. Stated preferences (zero-party data) of the subjects
    with a valid grant for `purpose` as of the run, only while fresh
    (retention policy `preferences`). Pseudonymized here rather than in the
    pseudonymized layer, so the preferences of a subject without the grant
    are never stored at all. int_preferences_consented (personalization)
    and int_email_preferences_consented (marketing_email) are one call each.
#}
{% macro preferences_consented_for(purpose) -%}
    {%- if purpose is not string or not modules.re.fullmatch('[a-z][a-z_]*', purpose) -%}
        {{ exceptions.raise_compiler_error(
            "preferences_consented_for(): purpose must be a consent purpose of seed "
            ~ "consent_purposes, e.g. 'marketing_email', got " ~ (purpose | string | tojson)) }}
    {%- endif -%}
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
    where consent_purpose = '{{ purpose }}'
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
{%- endmacro %}
