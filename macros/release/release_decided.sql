{#
    Two CTEs for a published model (no leading or trailing comma): rows_released,
    the release_row_id of every candidate row the release publishes, and
    magnitudes_withheld, per released row the list of its withheld measures
    (int_release_decisions, for `table_name`).
#}
{% macro release_decided(table_name) %}
rows_released as (
    select release_decisions.row_id
    from {{ ref('int_release_decisions') }} as release_decisions
    where
        release_decisions.table_name = '{{ table_name }}'
        and release_decisions.measure is null
        and not release_decisions.is_withheld
),

magnitudes_withheld as (
    select
        release_decisions.row_id,
        {{ sorted_list('release_decisions.measure') }} as measures
    from {{ ref('int_release_decisions') }} as release_decisions
    where
        release_decisions.table_name = '{{ table_name }}'
        and release_decisions.measure is not null
        and release_decisions.is_withheld
    group by release_decisions.row_id
)
{%- endmacro %}
