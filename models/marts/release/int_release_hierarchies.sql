{#-
    One row per dimension of the release and value at its finest level, with the
    value's path up its hierarchy (finest first): what the release's attacker model
    takes as the possible values of every dimension a published table shows. From
    the seeds (age bands, tenure and lifetime value bands, the exclusive segments),
    and, where the values come from the data, from the data in analytics scope
    (regions, first-purchase months). The interests of the contextual
    audiences are the affinity categories and none (their contexts are
    populations of their own, not dimensions). 'unknown' (a missing value, one class of its
    own) stands at every level; the top level of each hierarchy, 'any', means the
    dimension is summed over and has no row here.
-#}

with

age_bands as (
    select
        age_band,
        age_band_broad
    from {{ ref('age_bands') }}
),

generalization_bands as (
    select
        attribute,
        band,
        broad_band
    from {{ ref('generalization_bands') }}
),

segment_definitions as (
    select
        segment_name,
        is_exclusive
    from {{ ref('segment_definitions') }}
),

members_described as (
    select
        region__detail,
        region__broad
    from {{ ref('int_segment_members_described') }}
),

customer_behavior as (
    select first_purchase_cohort_month
    from {{ ref('fct_customer_behavior') }}
),

paths_unioned as (
    select
        'age_band' as dimension,
        {{ dbt.array_construct(["age_bands.age_band", "age_bands.age_band_broad"]) }} as value_path
    from age_bands
    union all
    select
        'region' as dimension,
        {{ dbt.array_construct([
            "members_described.region__detail",
            "members_described.region__broad",
        ]) }} as value_path
    from members_described
    union all
    select
        case generalization_bands.attribute
            when 'tenure_days' then 'tenure_band'
            when 'lifetime_value_eur' then 'lifetime_value_band'
        end as dimension,
        {{ dbt.array_construct([
            "generalization_bands.band",
            "generalization_bands.broad_band",
        ]) }} as value_path
    from generalization_bands
    union all
    select
        unknown_values.dimension,
        {{ dbt.array_construct(["'unknown'", "'unknown'"]) }} as value_path
    from (
        values ('age_band'), ('region'), ('tenure_band'), ('lifetime_value_band')
    ) as unknown_values (dimension)
    union all
    select
        'primary_segment' as dimension,
        {{ dbt.array_construct(["segment_definitions.segment_name"]) }} as value_path
    from segment_definitions
    where segment_definitions.is_exclusive
    union all
    select
        'primary_segment' as dimension,
        {{ dbt.array_construct(["'no_primary_segment'"]) }} as value_path
    union all
    select
        'cohort_month' as dimension,
        {{ dbt.array_construct([
            "cast(customer_behavior.first_purchase_cohort_month as string)",
        ]) }} as value_path
    from customer_behavior
    where customer_behavior.first_purchase_cohort_month is not null
    union all
    select
        'interest_category' as dimension,
        {{ dbt.array_construct(["interests.interest_category"]) }} as value_path
    from (
        values
        {%- for category in var('behavior_affinity_categories') + ['none'] %}
        ('{{ category }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as interests (interest_category)
),

final as (
    select distinct
        paths_unioned.dimension,
        paths_unioned.value_path
    from paths_unioned
    where paths_unioned.dimension is not null
)

select * from final
