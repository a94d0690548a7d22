{#-
    Incremental by subject (docs/performance.md, Incremental runs): hashes
    only the ids with a raw row in a file not read before, customers signed
    up or changing age since the recorded as_of, and ids with an erasure
    request (files_read_state); erased subjects purged.
#}
{{ config(
    materialized='incremental',
    incremental_strategy=keyed_incremental_strategy(),
    full_refresh=keyed_full_refresh(),
    unique_key='customer_key',
    on_schema_change='fail',
    pre_hook="{{ files_read_rebuild_delete() }}",
    post_hook=[
        "{{ purge_expired_and_erased(expire=false) }}",
        "{{ files_read_record('typed_shop__customers') }}",
    ],
) }}

-- depends_on: {{ ref('typed_shop__customers') }}
-- depends_on: {{ ref('base_preference_center__erasure_requests') }}
{%- set state = files_read_state() %}

with
{% if not state.rebuild %}
customer_ids_to_load as (
    select unread.customer_id
    from ({{ rows_of_unread_files('typed_shop__customers') }}) as unread
    union
    select staged.customer_id
    from {{ ref('stg_shop__customers') }} as staged
    where
        staged.signed_up_at >= {{ state.as_of }} + interval 1 day
        or {{ age_in_years('staged.birth_date', state.as_of) }}
        is distinct from {{ age_in_years('staged.birth_date', as_of_date()) }}
    union
    select requests.customer_id
    from {{ ref('base_preference_center__erasure_requests') }} as requests
),
{% endif %}
customers as (
    select
        customer_id,
        birth_date,
        postcode,
        country_code,
        signed_up_at
    from {{ ref('stg_shop__customers') }}
    {%- if not state.rebuild %}
    where customer_id in (select customer_ids_to_load.customer_id from customer_ids_to_load)
    {%- endif %}
),

postcode_areas as (
    select
        country_code,
        postcode_prefix,
        area,
        region
    from {{ ref('postcode_areas') }}
),

country_regions as (
    select
        country_code,
        market_region
    from {{ ref('country_regions') }}
),

age_bands as (
    select
        age_from,
        age_to,
        age_band
    from {{ ref('age_bands') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'customers', 'customer_id') }}
),

{# longest matching prefix wins (e.g. LS12 over LS1) -#}
postcodes_matched_to_areas as (
    select
        customers.customer_id,
        postcode_areas.area,
        postcode_areas.region
    from customers
    inner join postcode_areas
        on customers.country_code = postcode_areas.country_code
        and {{ text_starts_with('customers.postcode', 'postcode_areas.postcode_prefix') }}
    qualify row_number() over (
        partition by customers.customer_id
        order by length(postcode_areas.postcode_prefix) desc
    ) = 1
),

customers_generalized as (
    select
        customer_keys.customer_key,
        age_bands.age_band,
        coalesce(postcodes_matched_to_areas.area, 'unknown') as postcode_area,
        coalesce(postcodes_matched_to_areas.region, customers.country_code || '-unknown') as region,
        coalesce(country_regions.market_region, 'other') as market_region,
        cast(customers.signed_up_at as date) as signed_up_date
    from customers
    inner join customer_keys
        on customers.customer_id = customer_keys.customer_id
    left join postcodes_matched_to_areas
        on customers.customer_id = postcodes_matched_to_areas.customer_id
    left join country_regions
        on customers.country_code = country_regions.country_code
    left join age_bands
        on {{ age_in_years('customers.birth_date', as_of_date()) }}
            between age_bands.age_from and age_bands.age_to
)

select * from customers_generalized
