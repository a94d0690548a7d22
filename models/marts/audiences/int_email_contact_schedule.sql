{#
    When each customer with a valid marketing_email grant may be emailed
    again: the frequency they stated in the preference center (none stated:
    no limit of theirs), the last day the send log shows an email to them,
    and from that the first day a new email honours their frequency. Reads
    the send log and stated preferences only: nothing they did.
#}
{%- set intervals = var('audiences_contact_interval_days') -%}
with

consented_subjects as (
    select customer_key
    from {{ ref('int_consented_subjects') }}
    where consent_purpose = 'marketing_email'
),

email_preferences as (
    select
        customer_key,
        preferred_frequency
    from {{ ref('int_email_preferences_consented') }}
),

sends as (
    select
        customer_key,
        sent_date
    from {{ ref('int_email_sends_pseudonymized') }}
    where sent_date <= {{ as_of_date() }}
),

sends_summarized as (
    select
        customer_key,
        max(sent_date) as last_contacted_date
    from sends
    group by customer_key
),

frequencies_in_days as (
    select
        consented_subjects.customer_key,
        email_preferences.preferred_frequency,
        case email_preferences.preferred_frequency
            {%- for frequency, days in intervals.items() %}
            when '{{ frequency }}' then {{ days | int }}
            {%- endfor %}
        end as contact_interval_days
    from consented_subjects
    left join email_preferences
        on consented_subjects.customer_key = email_preferences.customer_key
),

final as (
    select
        frequencies_in_days.customer_key,
        frequencies_in_days.preferred_frequency,
        frequencies_in_days.contact_interval_days,
        sends_summarized.last_contacted_date,
        sends_summarized.last_contacted_date
        + frequencies_in_days.contact_interval_days as next_contact_date,
        coalesce(
            sends_summarized.last_contacted_date + frequencies_in_days.contact_interval_days
            <= {{ as_of_date() }},
            true
        ) as is_contact_due,
        {{ as_of_date() }} as as_of_date
    from frequencies_in_days
    left join sends_summarized
        on frequencies_in_days.customer_key = sends_summarized.customer_key
)

select * from final
