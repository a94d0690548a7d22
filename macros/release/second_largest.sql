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

{#- Spark: the values sorted largest first (NULLs left out, as DuckDB's max(x, 2)), the
    second of them; try_element_at gives NULL with fewer than two. #}
{% macro spark__second_largest(expression) -%}
    try_element_at(sort_array(collect_list({{ expression }}), false), 2)
{%- endmacro %}
