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
    {{ return(adapter.dispatch('magnitude_statistics', 'privacy_segmentation')(measures)) }}
{%- endmacro %}

{% macro default__magnitude_statistics(measures) -%}
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

{#- Spark: named structs; a NULL top1 or top2 is written as null (Spark's to_json leaves NULL
    fields out unless told), as on DuckDB. Doubles are written as Java writes them (1.0E7
    where DuckDB writes 10000000.0): the same number to the engine's JSON parser. #}
{% macro spark__magnitude_statistics(measures) -%}
    to_json(named_struct(
        {%- for name, value in measures.items() %}
        '{{ name }}', named_struct(
            'sum', cast(coalesce(sum({{ value }}), 0) as double),
            'contributors', count(*) filter (where coalesce({{ value }}, 0) <> 0),
            'top1', cast(max({{ value }}) as double),
            'top2', cast({{ second_largest(value) }} as double)
        ){{ ',' if not loop.last }}
        {%- endfor %}
    ), map('ignoreNullFields', 'false'))
{%- endmacro %}
