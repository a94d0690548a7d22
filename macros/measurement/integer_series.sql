{#
    Select of one row per whole number from `start` up to `stop` (excluded), in the
    column `column`. Dispatched: DuckDB's range() names its column `range`, Spark's `id`.
#}
{% macro integer_series(start, stop, column) -%}
    {{ return(adapter.dispatch('integer_series', 'privacy_segmentation')(start, stop, column)) }}
{%- endmacro %}

{% macro default__integer_series(start, stop, column) -%}
    select series.range as {{ column }}
    from range({{ start }}, {{ stop }}) as series
{%- endmacro %}

{% macro spark__integer_series(start, stop, column) -%}
    select series.id as {{ column }}
    from range({{ start }}, {{ stop }}) as series
{%- endmacro %}
