with

preferences as (
    select
        customer_id,
        stated_interests,
        preferred_channel,
        preferred_frequency,
        updated_at
    from {{ ref('stg_preference_center__preferences') }}
),

final as (
    select
        {{ pseudonymize('customer', 'preferences.customer_id') }} as customer_key,
        preferences.stated_interests,
        preferences.preferred_channel,
        preferences.preferred_frequency,
        cast(preferences.updated_at as date) as updated_date
    from preferences
)

select * from final
