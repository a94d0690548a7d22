{#
    Invariant 6 for aggregated tables: every released row (cell) counts 0
    or at least k distinct subjects in its subject count column (a cell of
    nobody is published as 0). The column and
    k are the tested model's declaration (published_privacy:
    meta.privacy.subject_count_column, meta.privacy.k or var segments_k);
    arguments are for a model that declares nothing (a fixture): the
    privacy post-hook refuses them on a published model. A NULL count
    fails too: a released cell must say how many it counts.
    Fails with one row per offending cell size: how many cells have it.
#}
{% test min_cell_size(model, column_name=none, k=none) %}
{%- set settings = privacy_test_settings('min_cell_size', model, {
    'subject_count_column': column_name, 'k': k,
}) %}

with

validation_errors as (
    select
        {{ settings.subject_count_column }} as cell_size,
        count(*) as cells,
        {{ settings.k | int }} as k
    from {{ model }}
    where
        {{ settings.subject_count_column }} is null
        or {{ settings.subject_count_column }} between 1 and {{ settings.k | int }} - 1
    group by {{ settings.subject_count_column }}
)

select * from validation_errors
{% endtest %}
