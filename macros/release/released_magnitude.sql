{#
    Expression: `expression` (a published magnitude, or a column derived from one),
    or NULL when the release withholds any of `measures` for the row. The published
    model joins `withheld` (default magnitudes_withheld), one row per candidate row
    with the list of its withheld measures (int_release_decisions).
#}
{% macro released_magnitude(expression, measures, withheld='magnitudes_withheld') -%}
    {%- if measures is string or not measures -%}
        {{ exceptions.raise_compiler_error(
            "released_magnitude(): measures must be a non-empty list, got " ~ measures) }}
    {%- endif -%}
    case
        when list_has_any(
            coalesce({{ withheld }}.measures, []), ['{{ measures | join("', '") }}']
        ) then null
        else {{ expression }}
    end
{%- endmacro %}
