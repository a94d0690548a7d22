{#-
    One row per subject with a primary segment: its quasi-identifiers at
    every level of their hierarchies, generalized by
    k_anonymous_generalization() to the chosen level, with its class size
    and why it is suppressed (if it is). fct_segment_profiles publishes the
    rows that are not suppressed, without the pseudonym.
    The quasi-identifiers, the sensitive attribute, k and the diversity
    (kind, l, c) are what fct_segment_profiles declares (published_privacy):
    a class too small or not diverse enough is suppressed (class_below_k,
    class_not_diverse). This model adds how
    each generalized quasi-identifier climbs its hierarchy, and keeps the
    others (the segment) as they are.
-#}
{%- set published = published_privacy('fct_segment_profiles') -%}
{%- set hierarchies = [
    {'name': 'age_band', 'levels': ['age_band__detail', 'age_band__broad']},
    {'name': 'region', 'levels': ['region__detail', 'region__broad']},
    {'name': 'tenure_band', 'levels': ['tenure_days_band__detail', 'tenure_days_band__broad']},
    {'name': 'lifetime_value_band',
        'levels': ['lifetime_value_eur_band__detail', 'lifetime_value_eur_band__broad']},
] -%}
{%- set generalized = hierarchies | map(attribute='name') | list -%}
{%- set undeclared = generalized | reject('in', published.quasi_identifiers) | list -%}
{%- if execute and undeclared -%}
    {{ exceptions.raise_compiler_error(
        "int_segment_profiles_generalized: generalizes " ~ (undeclared | join(', '))
        ~ ", which fct_segment_profiles does not declare in meta.privacy.quasi_identifiers ("
        ~ (published.quasi_identifiers | join(', ')) ~ ")") }}
{%- endif %}
with

profiles_joined as (
    select
        customer_key,
        segment_name as primary_segment,
        age_band__detail,
        age_band__broad,
        region__detail,
        region__broad,
        tenure_days_band__detail,
        tenure_days_band__broad,
        lifetime_value_eur_band__detail,
        lifetime_value_eur_band__broad,
        top_category
    from {{ ref('int_segment_members_described') }}
    where is_primary
),

{{ k_anonymous_generalization(
    records='profiles_joined',
    fixed=published.quasi_identifiers | reject('in', generalized) | list,
    hierarchies=hierarchies,
    k=published.k,
    max_suppressed_share=var('segments_max_suppressed_share'),
    sensitive_attribute=published.sensitive_attribute,
    diversity=published.diversity,
) }},

final as (
    select
        records_generalized.customer_key,
        {{ release_row_id(
            'fct_segment_profiles',
            ['primary_segment', 'age_band', 'region', 'tenure_band', 'lifetime_value_band'],
            'records_generalized'
        ) }} as release_row_id,
        records_generalized.primary_segment,
        records_generalized.age_band,
        records_generalized.region,
        records_generalized.tenure_band,
        records_generalized.lifetime_value_band,
        records_generalized.top_category,
        cast(records_generalized.class_size as integer) as class_size,
        records_generalized.suppression_reason is not null as is_suppressed,
        records_generalized.suppression_reason,
        cast(records_generalized.age_band_level as integer) as age_band_level,
        cast(records_generalized.region_level as integer) as region_level,
        cast(records_generalized.tenure_band_level as integer) as tenure_band_level,
        cast(records_generalized.lifetime_value_band_level as integer) as lifetime_value_band_level,
        {{ as_of_date() }} as as_of_date
    from records_generalized
)

select * from final
