{#
    Generalize an event timestamp into the coarse parts behavioural marts
    need, as a list of select expressions with a common prefix:
    <prefix>_date, <prefix>_hour, <prefix>_day_of_week (ISO, 1 = Monday).
    The exact timestamp is dropped: to the minute, it can link an event to
    a receipt, a log line or a camera.
#}
{% macro generalize_timestamp(timestamp_expression, prefix) -%}
    {{ return(adapter.dispatch('generalize_timestamp', 'privacy_segmentation')(
        timestamp_expression, prefix)) }}
{%- endmacro %}

{% macro default__generalize_timestamp(timestamp_expression, prefix) -%}
    cast({{ timestamp_expression }} as date) as {{ prefix }}_date,
    cast(extract(hour from {{ timestamp_expression }}) as integer) as {{ prefix }}_hour,
    cast(extract(isodow from {{ timestamp_expression }}) as integer) as {{ prefix }}_day_of_week
{%- endmacro %}

{#- Spark: no isodow; dayofweek_iso is the same ISO day (1 = Monday). #}
{% macro spark__generalize_timestamp(timestamp_expression, prefix) -%}
    cast({{ timestamp_expression }} as date) as {{ prefix }}_date,
    cast(extract(hour from {{ timestamp_expression }}) as integer) as {{ prefix }}_hour,
    cast(extract(dayofweek_iso from {{ timestamp_expression }}) as integer)
        as {{ prefix }}_day_of_week
{%- endmacro %}
