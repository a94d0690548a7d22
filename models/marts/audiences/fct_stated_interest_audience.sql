{#
    Stated-interest audiences (zero-party first): one row per customer and
    interest they told the preference center, for customers with a valid
    marketing_email grant who chose email as their channel. Built only from
    what they stated and when we last emailed them: no purchase, browsing or
    email engagement, so no analytics grant is needed (the audit's check
    stated_audiences proves the lineage).
#}
with

email_preferences as (
    select
        customer_key,
        stated_interests,
        preferred_channel,
        preferred_frequency
    from {{ ref('int_email_preferences_consented') }}
),

contact_schedule as (
    select
        customer_key,
        last_contacted_date,
        next_contact_date,
        is_contact_due
    from {{ ref('int_email_contact_schedule') }}
),

interests_unnested as (
    select
        customer_key,
        preferred_frequency,
        trim(interest_listed) as interest
    from (
        select
            customer_key,
            preferred_frequency,
            {{ split_rows('stated_interests', '|') }} as interest_listed
        from email_preferences
        where preferred_channel = 'email'
    ) as interests_split
),

final as (
    select distinct
        interests_unnested.customer_key,
        interests_unnested.interest,
        interests_unnested.preferred_frequency,
        contact_schedule.last_contacted_date,
        contact_schedule.next_contact_date,
        contact_schedule.is_contact_due,
        {{ as_of_date() }} as as_of_date
    from interests_unnested
    inner join contact_schedule
        on interests_unnested.customer_key = contact_schedule.customer_key
    where interests_unnested.interest != ''
)

select * from final
