{#
    Select of the cells a measurement mart declares, whether or not data
    falls into them: every row of `groups` (a CTE of the caller, e.g. the
    campaigns or the cohorts) times every primary-segment cell, that is
    every exclusive segment of the seed segment_definitions (a subject's
    primary segment is one of them) plus 'no_primary_segment' for subjects
    without one. The cells partition a group's subjects, so a group's total
    is the sum of its cells (cell_totals). Columns: those of `groups`, then
    segment_name.
#}
{% macro primary_segment_cells(groups) %}
    select
        {{ groups }}.*,
        segment_cells.segment_name
    from {{ groups }}
    cross join (
        select segment_definitions.segment_name
        from {{ ref('segment_definitions') }} as segment_definitions
        where segment_definitions.is_exclusive
        union all
        select 'no_primary_segment' as segment_name
    ) as segment_cells
{%- endmacro %}
