{#
    The first item of a `separator`-separated string that is one of
    `allowed_values` (a list of strings), or NULL when none is. Used to pick
    a customer's first stated interest that is a known product category.
#}
{% macro first_listed_match(list_expression, separator, allowed_values) -%}
    {%- if allowed_values is string or allowed_values | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "first_listed_match: `allowed_values` must be a non-empty list, got "
            ~ allowed_values) }}
    {%- endif -%}
    {{ return(adapter.dispatch('first_listed_match', 'privacy_segmentation')(
        list_expression, separator, allowed_values)) }}
{%- endmacro %}

{% macro default__first_listed_match(list_expression, separator, allowed_values) -%}
    list_filter(
        string_split({{ list_expression }}, '{{ separator }}'),
        lambda item: item in ('{{ allowed_values | join("', '") }}')
    )[1]
{%- endmacro %}

{#- Spark: split takes a regex (the separator as a one-character class); get() is NULL past the
    end, where [] fails under ANSI mode. #}
{% macro spark__first_listed_match(list_expression, separator, allowed_values) -%}
    get(
        filter(
            split({{ list_expression }}, '[{{ separator }}]'),
            item -> item in ('{{ allowed_values | join("', '") }}')
        ),
        0
    )
{%- endmacro %}
