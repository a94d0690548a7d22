{#
    Predicate: `date_expression` falls in the trailing behaviour window,
    the var behavior_window_days days up to and including the run's as_of.
    The one definition of the window that frequency, monetary value,
    timing, email engagement, seasonality, affinity and the campaigns in
    the measurement release share.
#}
{% macro in_behavior_window(date_expression) -%}
    {%- set window_days = var('behavior_window_days') -%}
    {%- if window_days is not number or window_days < 1 or window_days != (window_days | int) -%}
        {{ exceptions.raise_compiler_error(
            "var 'behavior_window_days' must be a whole number of days >= 1, got '"
            ~ window_days ~ "'") }}
    {%- endif -%}
    {{ date_expression }} > {{ as_of_date() }} - {{ window_days | int }}
{%- endmacro %}
