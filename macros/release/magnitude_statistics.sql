{#
    Aggregate expression (inside a GROUP BY over one row per subject): a JSON object
    with, for each measure of `measures` ({name: per-subject value expression}), what
    the release's magnitude rules need of the group: sum, contributors (subjects with
    a value other than 0), top1 and top2 (the largest and second largest single
    values). The engine (release_protection) applies the minimum-contributor and
    dominance rules to them and bounds what differencing reveals; never published.
#}
{% macro magnitude_statistics(measures) -%}
    {%- if measures is not mapping or not measures -%}
        {{ exceptions.raise_compiler_error(
            "magnitude_statistics(): measures must be a non-empty mapping of name to "
            ~ "expression, got " ~ measures) }}
    {%- endif -%}
    to_json({
        {%- for name, value in measures.items() %}
        '{{ name }}': {
            'sum': cast(coalesce(sum({{ value }}), 0) as double),
            'contributors': count(*) filter (where coalesce({{ value }}, 0) <> 0),
            'top1': cast(max({{ value }}) as double),
            'top2': cast({{ second_largest(value) }} as double)
        }{{ ',' if not loop.last }}
        {%- endfor %}
    })
{%- endmacro %}
