{#- var('behavior_lookback_days'), checked: a whole number of days >= 0. -#}
{% macro behavior_lookback_days() -%}
    {%- set lookback = var('behavior_lookback_days') -%}
    {%- if lookback is not number or lookback < 0 -%}
        {{ exceptions.raise_compiler_error(
            "var 'behavior_lookback_days' must be a whole number of days >= 0, got '"
            ~ lookback ~ "'") }}
    {%- endif -%}
    {{ return(lookback) }}
{%- endmacro %}
