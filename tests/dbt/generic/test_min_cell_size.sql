{#
    Invariant 6 for aggregated tables: every released row (cell) counts at
    least k distinct subjects in `column_name` (its subject count column).
    A NULL count fails too: a released cell must say how many it counts.
    Fails with one row per offending cell size: how many cells have it.
#}
{% test min_cell_size(model, column_name, k=none) %}
{%- set k = (k if k is not none else var('segments_k')) | int %}

with

validation_errors as (
    select
        {{ column_name }} as cell_size,
        count(*) as cells,
        {{ k }} as k
    from {{ model }}
    where {{ column_name }} is null or {{ column_name }} < {{ k }}
    group by {{ column_name }}
)

select * from validation_errors
{% endtest %}
