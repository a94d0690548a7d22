{#
    CTEs that decide which rows of an aggregated table may be published:
    cells grouped under a total (e.g. the age x region cells of a segment,
    the segment cells of a campaign, the segment cells of a cohort). The one
    suppression rule of the project, shared by rpt_segment_summary and the
    measurement marts:

    - group below k: a group whose total counts fewer than k subjects is
      withheld whole, total and cells (reason `group_below_k_reason`);
    - primary: a cell counting fewer than k subjects (or for which
      `primary_suppressed` is true) is withheld ('cell_below_k');
    - secondary (when `additive`): the cells of a group add up to its
      published total, so total minus the released cells gives the sum of
      the withheld ones. While that sum is above 0 and below k, the smallest
      released cells (ties by `order_by`) are withheld too ('secondary'),
      until the withheld cells together count at least k. With
      additive=false (cells that do not add up to the total, e.g. retention
      by month) there is nothing to subtract and no secondary suppression.

    Column arguments are unqualified names (and `primary_suppressed` an
    expression over the cell's columns), evaluated within `cells` alone.
    `cells` and `totals` are CTEs of the caller: one row per cell, one row
    per group, both with the `group_by` columns; cells count subjects in
    `count_column`, totals in `total_count_column` (default the same name).
    Emits (no leading or trailing comma):
      <cells>_ranked       cells + suppression_is_primary,
                           suppression_primary_members, suppression_smaller_released_members
      <cells>_suppressed   <cells>_ranked + suppression_reason (NULL = publish)
      <totals>_suppressed  totals + suppression_reason
#}
{% macro small_cell_suppression(cells, totals, group_by, order_by, count_column, k,
        primary_suppressed=none, group_below_k_reason='group_below_k', additive=true,
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
    {%- if order_by is string -%}
        {{ exceptions.raise_compiler_error(
            "small_cell_suppression(): order_by must be a list of columns, got " ~ order_by) }}
    {%- endif -%}
    {%- set k = k | int -%}
    {%- set total_count_column = total_count_column or count_column -%}
    {%- set is_primary = primary_suppressed or (count_column ~ ' < ' ~ k) -%}
    {%- set window_order = [count_column] + (order_by | list) %}

{{ cells }}_ranked as (
    select
        {{ cells }}.*,
        coalesce({{ is_primary }}, true) as suppression_is_primary,
        coalesce(
            sum({{ count_column }}) filter (where coalesce({{ is_primary }}, true))
                over (partition by {{ group_by | join(', ') }}),
            0
        ) as suppression_primary_members,
        {#- Subjects in released cells smaller than this one (ties by order_by),
            i.e. what secondary suppression has taken before reaching it. #}
        coalesce(
            sum({{ count_column }}) filter (where not coalesce({{ is_primary }}, true))
                over (
                    partition by {{ group_by | join(', ') }}
                    order by {{ window_order | join(', ') }}
                    rows between unbounded preceding and 1 preceding
                ),
            0
        ) as suppression_smaller_released_members
    from {{ cells }}
),

{{ cells }}_suppressed as (
    select
        {{ cells }}_ranked.*,
        case
            when {{ totals }}.{{ total_count_column }} < {{ k }} then '{{ group_below_k_reason }}'
            when {{ cells }}_ranked.suppression_is_primary then 'cell_below_k'
            {%- if additive %}
            when
                {{ cells }}_ranked.suppression_primary_members > 0
                and {{ cells }}_ranked.suppression_primary_members
                    + {{ cells }}_ranked.suppression_smaller_released_members < {{ k }}
                then 'secondary'
            {%- endif %}
        end as suppression_reason
    from {{ cells }}_ranked
    inner join {{ totals }}
        on
            {%- for column in group_by %}
            {% if not loop.first %}and {% endif %}{{ cells }}_ranked.{{ column }}
                = {{ totals }}.{{ column }}
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
