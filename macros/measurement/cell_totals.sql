{#
    Select of one total row per group of `cells` (a CTE of the caller with
    one row per cell): the sum of every column in `sums`, any value of the
    columns in `labels` (constant within a group, e.g. a campaign's name),
    and the literal values of `constants` (e.g. cell_level =
    'campaign_total', segment_name = 'all'). A total that is the sum of its
    cells is what makes secondary suppression necessary
    (small_cell_suppression, additive=true): the caller declares that the
    cells partition the group by using this macro.
#}
{% macro cell_totals(cells, group_by, sums, constants={}, labels=[]) %}
    {%- if group_by is string or not group_by -%}
        {{ exceptions.raise_compiler_error(
            "cell_totals(): group_by must be a non-empty list of columns, got " ~ group_by) }}
    {%- endif %}
    select
        {%- for column in group_by %}
        {{ cells }}.{{ column }},
        {%- endfor %}
        {%- for column in labels %}
        any_value({{ cells }}.{{ column }}) as {{ column }},
        {%- endfor %}
        {%- for column, value in constants.items() %}
        '{{ value }}' as {{ column }},
        {%- endfor %}
        {%- for column in sums %}
        sum({{ cells }}.{{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ cells }}
    group by
        {%- for column in group_by %}
        {{ cells }}.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
{%- endmacro %}
