{#-
    One row per segment membership, described by what the published segment
    tables may show: each quasi-identifier at every level of its
    generalization hierarchy (most detailed first; NULL mapped to
    'unknown', so a missing value is one value, never a wildcard), the top
    category and the metrics the summary averages. The shared input of
    int_segment_profiles_generalized and int_segment_cells_suppressed.
-#}
{%- set bands = ['tenure_days', 'lifetime_value_eur'] -%}

with

memberships as (
    select
        customer_key,
        segment_name,
        is_primary
    from {{ ref('fct_segment_membership') }}
),

customer_behavior as (
    select
        customer_key,
        tenure_days,
        lifetime_value_eur,
        orders_in_window,
        recency_days,
        buyer_type,
        top_category
    from {{ ref('fct_customer_behavior') }}
),

customers as (
    select
        customer_key,
        age_band,
        region,
        market_region
    from {{ ref('int_customers_pseudonymized') }}
),

age_bands as (
    select
        age_band,
        age_band_broad
    from {{ ref('age_bands') }}
),

generalization_bands as (
    select
        attribute,
        lower_bound,
        upper_bound,
        band,
        broad_band
    from {{ ref('generalization_bands') }}
),

final as (
    select
        memberships.customer_key,
        memberships.segment_name,
        memberships.is_primary,
        coalesce(customers.age_band, 'unknown') as age_band__detail,
        coalesce(age_bands.age_band_broad, 'unknown') as age_band__broad,
        coalesce(customers.region, 'unknown') as region__detail,
        coalesce(customers.market_region, 'unknown') as region__broad,
        {%- for attribute in bands %}
        coalesce({{ attribute }}_bands.band, 'unknown') as {{ attribute }}_band__detail,
        coalesce({{ attribute }}_bands.broad_band, 'unknown') as {{ attribute }}_band__broad,
        {%- endfor %}
        coalesce(customer_behavior.top_category, 'none') as top_category,
        customer_behavior.lifetime_value_eur,
        customer_behavior.orders_in_window,
        customer_behavior.recency_days,
        customer_behavior.buyer_type,
        {{ as_of_date() }} as as_of_date
    from memberships
    inner join customer_behavior
        on memberships.customer_key = customer_behavior.customer_key
    left join customers
        on memberships.customer_key = customers.customer_key
    left join age_bands
        on customers.age_band = age_bands.age_band
    {%- for attribute in bands %}
    left join generalization_bands as {{ attribute }}_bands
        on
            {{ attribute }}_bands.attribute = '{{ attribute }}'
            and customer_behavior.{{ attribute }} >= {{ attribute }}_bands.lower_bound
            and (
                customer_behavior.{{ attribute }} < {{ attribute }}_bands.upper_bound
                or {{ attribute }}_bands.upper_bound is null
            )
    {%- endfor %}
)

select * from final
