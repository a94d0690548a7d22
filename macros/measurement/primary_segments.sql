{#
    Select of each subject's primary segment (fct_segment_membership):
    customer_key, segment_name, at most one row per subject. A subject
    without one (no exclusive segment matched) has no row; the measurement
    marts count them in the cell 'no_primary_segment' (primary_segment_cells).
#}
{% macro primary_segments() %}
    select
        customer_key,
        segment_name
    from {{ ref('fct_segment_membership') }}
    where is_primary
{%- endmacro %}
