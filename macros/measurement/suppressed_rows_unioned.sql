{#
    CTE `rows_unioned`: the cells and the totals of an aggregated table
    after small_cell_suppression, one row each, with the same `columns`,
    their suppression_reason (NULL = publish) and is_suppressed. The one
    place that puts cells and totals together, for the segment summary and
    the measurement marts.
    `cells` and `totals` are the CTEs small_cell_suppression emitted
    (<cells>_suppressed, <totals>_suppressed) or built on them;
    `cell_reason` is the cells' reason as an expression over `cells`
    (default its suppression_reason column), for a table suppressed in two
    passes.
#}
{% macro suppressed_rows_unioned(cells, totals, columns, cell_reason=none) %}
    {%- set reasons = {
        cells: cell_reason or cells ~ '.suppression_reason',
        totals: totals ~ '.suppression_reason',
    } %}
rows_unioned as (
    {%- for relation, reason in reasons.items() %}
    select
        {%- for column in columns %}
        {{ relation }}.{{ column }},
        {%- endfor %}
        {{ reason }} as suppression_reason,
        {{ reason }} is not null as is_suppressed
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)
{%- endmacro %}
