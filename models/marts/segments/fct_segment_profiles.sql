{#-
    The records of the row-level segment profiles that the release publishes: a
    record's class (its quasi-identifiers as generalized) is published when neither
    its own size and diversity (primary) nor the rest of the release (secondary,
    int_release_decisions) withholds it.
-#}

with

profiles_generalized as (
    select
        release_row_id,
        primary_segment,
        age_band,
        region,
        tenure_band,
        lifetime_value_band,
        top_category,
        as_of_date
    from {{ ref('int_segment_profiles_generalized') }}
),

{{ release_decided('fct_segment_profiles') }},

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
    inner join rows_released
        on profiles_generalized.release_row_id = rows_released.row_id
    {#- A fixed order: the publication is byte-stable and the row order says nothing. #}
    order by all
)

select * from final
