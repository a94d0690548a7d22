{#
    Lists in the release's SQL, engine by engine (dispatched): DuckDB's list functions,
    Spark's array functions.
#}

{#- Aggregate expression: the list of the group's values of `expression`, ascending
    (NULLs included, last). #}
{% macro sorted_list(expression) -%}
    {{ return(adapter.dispatch('sorted_list', 'privacy_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__sorted_list(expression) -%}
    list({{ expression }} order by {{ expression }})
{%- endmacro %}

{#- collect_list leaves NULLs out: the values are collected wrapped in a struct, which is
    never NULL, and unwrapped after sorting (array_sort puts NULLs last). #}
{% macro spark__sorted_list(expression) -%}
    array_sort(transform(
        collect_list(named_struct('value', {{ expression }})), wrapped -> wrapped.value
    ))
{%- endmacro %}

{#- Boolean: the list `list_expression` (NULL: an empty list) holds any of `values` (SQL
    expressions). #}
{% macro list_has_any_of(list_expression, values) -%}
    {{ return(adapter.dispatch('list_has_any_of', 'privacy_segmentation')(
        list_expression, values)) }}
{%- endmacro %}

{% macro default__list_has_any_of(list_expression, values) -%}
    list_has_any(coalesce({{ list_expression }}, []), [{{ values | join(', ') }}])
{%- endmacro %}

{#- arrays_overlap is NULL, not false, when no value is shared and either side holds a
    NULL: coalesced to false, as list_has_any, which ignores NULLs. #}
{% macro spark__list_has_any_of(list_expression, values) -%}
    coalesce(arrays_overlap({{ list_expression }}, array({{ values | join(', ') }})), false)
{%- endmacro %}
