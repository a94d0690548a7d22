with

profiles_generalized as (
    select
        primary_segment,
        age_band,
        region,
        tenure_band,
        lifetime_value_band,
        top_category,
        is_suppressed,
        as_of_date
    from {{ ref('int_segment_profiles_generalized') }}
),

final as (
    select
        profiles_generalized.primary_segment,
        profiles_generalized.age_band,
        profiles_generalized.region,
        profiles_generalized.tenure_band,
        profiles_generalized.lifetime_value_band,
        profiles_generalized.top_category,
        profiles_generalized.as_of_date
    from profiles_generalized
    where not profiles_generalized.is_suppressed
    {#- A fixed order: the publication is byte-stable and the row order says nothing. #}
    order by all
)

select * from final
