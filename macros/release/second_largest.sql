{#
    Aggregate expression: the second largest value of `expression` in the group (NULL
    with fewer than two). Engine-specific (a list of the top values), so dispatched.
#}
{% macro second_largest(expression) -%}
    {{ return(adapter.dispatch('second_largest')(expression)) }}
{%- endmacro %}

{% macro default__second_largest(expression) -%}
    max({{ expression }}, 2)[2]
{%- endmacro %}
