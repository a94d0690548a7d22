{#
    CTEs that mark the rows of an aggregated table that may not be published on
    their own (primary suppression): cells grouped under a total (the age x
    region cells of a segment, the segment cells of a campaign or a cohort).
    The one rule of the project, shared by rpt_segment_summary and the
    measurement marts:

    - group below k: a group whose total counts fewer than k subjects is
      withheld whole, total and cells (reason `group_below_k_reason`);
    - cell below k: a cell counting 1 to k-1 subjects (or for which
      `primary_suppressed` is true) is withheld ('cell_below_k'). A cell of
      nobody is published as 0: it tells nothing about a person, and an
      attacker who knows the cells of a group are empty learns nothing
      either.

    What else must be withheld so that no withheld row can be recovered, from
    this table's totals or from any other published table, is decided for the
    whole release at once (int_release_decisions, secondary suppression).

    Column arguments are unqualified names (and `primary_suppressed` an
    expression over the cell's columns), evaluated within `cells` alone.
    `cells` and `totals` are CTEs of the caller: one row per cell, one row
    per group, both with the `group_by` columns; cells count subjects in
    `count_column`, totals in `total_count_column` (default the same name).
    Emits (no leading or trailing comma):
      <cells>_marked       cells + suppression_is_primary
      <cells>_suppressed   <cells>_marked + suppression_reason (NULL = publishable)
      <totals>_suppressed  totals + suppression_reason
#}
{% macro small_cell_suppression(cells, totals, group_by, count_column, k,
        primary_suppressed=none, group_below_k_reason='group_below_k',
        total_count_column=none) %}
    {%- if (k | int) < 2 -%}
        {{ exceptions.raise_compiler_error(
            "small_cell_suppression(): k must be an integer of at least 2, got " ~ k) }}
    {%- endif -%}
    {%- if group_by is string or not group_by -%}
        {{ exceptions.raise_compiler_error(
            "small_cell_suppression(): group_by must be a non-empty list of columns, got "
            ~ group_by) }}
    {%- endif -%}
    {%- set k = k | int -%}
    {%- set total_count_column = total_count_column or count_column -%}
    {%- set is_primary = primary_suppressed
        or (count_column ~ ' between 1 and ' ~ (k - 1)) %}

{{ cells }}_marked as (
    select
        {{ cells }}.*,
        coalesce({{ is_primary }}, true) as suppression_is_primary
    from {{ cells }}
),

{{ cells }}_suppressed as (
    select
        {{ cells }}_marked.*,
        case
            when {{ totals }}.{{ total_count_column }} < {{ k }} then '{{ group_below_k_reason }}'
            when {{ cells }}_marked.suppression_is_primary then 'cell_below_k'
        end as suppression_reason
    from {{ cells }}_marked
    inner join {{ totals }}
        on
            {%- for column in group_by %}
            {% if not loop.first %}and {% endif -%}
            {{ cells }}_marked.{{ column }} = {{ totals }}.{{ column }}
            {%- endfor %}
),

{{ totals }}_suppressed as (
    select
        {{ totals }}.*,
        case
            when {{ totals }}.{{ total_count_column }} < {{ k }} then '{{ group_below_k_reason }}'
        end as suppression_reason
    from {{ totals }}
)
{%- endmacro %}
