{#
    Every raw row that failed validation, with the check it failed first.
    Row values are NOT copied here: the raw id, file and row number are
    enough to find the row in the raw file, and keep this relation free of
    the personal data it would otherwise duplicate.
#}
{%- set validated = [
    ('shop', 'customers', 'base_shop__customers'),
    ('shop', 'products', 'base_shop__products'),
    ('shop', 'orders', 'base_shop__orders'),
    ('shop', 'order_items', 'base_shop__order_items'),
    ('web', 'web_events', 'base_web__events'),
    ('email', 'campaigns', 'base_email__campaigns'),
    ('email', 'email_events', 'base_email__events'),
    ('preference_center', 'consent_events', 'base_preference_center__consent_events'),
    ('preference_center', 'preferences', 'base_preference_center__preferences'),
    ('preference_center', 'erasure_requests', 'base_preference_center__erasure_requests'),
] -%}

with

{% for source_name, table_name, model_name in validated -%}
{{ table_name }}_rejected as (
    select
        '{{ source_name }}' as source_name,
        '{{ table_name }}' as source_table,
        _reject_reason as reject_reason,
        _raw_id as raw_row_id,
        _source_file as source_file,
        _source_row_number as source_row_number
    from {{ ref(model_name) }}
    where _reject_reason is not null
),

{% endfor -%}
unioned as (
    {%- for source_name, table_name, model_name in validated %}
    select * from {{ table_name }}_rejected
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
)

select * from unioned
