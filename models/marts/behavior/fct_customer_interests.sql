{#
    One row per subject in scope of personalization as of the run: what
    they told us (stated interests from the preference center) next to what
    we inferred from purchases, and the category to use, preferring the
    stated one. Inferred columns are filled only for subjects who are also
    in scope of analytics (the behavioural facts hold no one else).
#}
{%- set categories = var('behavior_affinity_categories') -%}

with

subjects_in_scope as (
    select customer_key
    from {{ ref('int_consented_subjects') }}
    where consent_purpose = 'personalization'
),

preferences as (
    select
        customer_key,
        stated_interests,
        preferred_channel,
        preferred_frequency
    from {{ ref('int_preferences_consented') }}
),

customer_affinity as (
    select
        customer_key,
        top_category,
        affinity_cluster_id
    from {{ ref('fct_customer_affinity') }}
),

{# the first stated interest that is a known product category -#}
stated_categories as (
    select
        customer_key,
        {{ first_listed_match('stated_interests', '|', categories) }} as stated_top_category
    from preferences
    where stated_interests is not null and stated_interests <> ''
),

final as (
    select
        subjects_in_scope.customer_key,
        preferences.stated_interests,
        stated_categories.stated_top_category,
        customer_affinity.top_category as inferred_top_category,
        customer_affinity.affinity_cluster_id,
        coalesce(stated_categories.stated_top_category, customer_affinity.top_category)
            as preferred_category,
        case
            when stated_categories.stated_top_category is not null then 'stated'
            when customer_affinity.top_category is not null then 'inferred'
        end as preferred_category_source,
        preferences.preferred_channel,
        preferences.preferred_frequency
    from subjects_in_scope
    left join preferences
        on subjects_in_scope.customer_key = preferences.customer_key
    left join stated_categories
        on subjects_in_scope.customer_key = stated_categories.customer_key
    left join customer_affinity
        on subjects_in_scope.customer_key = customer_affinity.customer_key
)

select * from final
