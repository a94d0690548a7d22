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
    {%- set literals = [] -%}
    {%- for measure in measures -%}
        {%- do literals.append("'" ~ measure ~ "'") -%}
    {%- endfor %}
    case
        when {{ list_has_any_of(withheld ~ '.measures', literals) }} then null
        else {{ expression }}
    end
{%- endmacro %}
