{#
    Invariant 6 for aggregated tables: every released row (cell) counts at
    least k distinct subjects in its subject count column. The column and
    k are the tested model's declaration (published_privacy:
    meta.privacy.subject_count_column, meta.privacy.k or var segments_k);
    arguments are for a model that declares nothing (a fixture): the
    privacy post-hook refuses them on a published model. A NULL count
    fails too: a released cell must say how many it counts.
    Fails with one row per offending cell size: how many cells have it.
#}
{% test min_cell_size(model, column_name=none, k=none) %}
{%- set declared = published_privacy(tested_node()) -%}
{%- set column_name = column_name or declared.subject_count_column -%}
{%- set k = (k if k is not none else declared.k) | int -%}
{%- if execute and not column_name -%}
    {{ exceptions.raise_compiler_error(
        "min_cell_size on " ~ model ~ ": no subject count column; declare it in the model's "
        ~ "meta.privacy.subject_count_column") }}
{%- endif %}

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
