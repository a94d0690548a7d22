with

preferences as (
    select * from {{ ref('base_preference_center__preferences') }}
),

valid_preferences_renamed as (
    select
        customer_id,
        lower(stated_interests) as stated_interests,
        preferred_channel,
        preferred_frequency,
        updated_at
    from preferences
    where
        _reject_reason is null
        and {{ not_erased('customer_id') }}
)

select * from valid_preferences_renamed
