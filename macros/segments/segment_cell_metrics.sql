{#
    Select expressions of what the segment summary reports for a group of
    segment memberships in `relation` (a cell, or a whole segment):
    member_count (distinct subjects) and the means of lifetime value,
    orders in the window, recency (among members who ordered) and the
    repeat-buyer share. One definition, so that a segment total and its
    cells are computed alike.
#}
{% macro segment_cell_metrics(relation) -%}
    count(distinct {{ relation }}.customer_key) as member_count,
        avg({{ relation }}.lifetime_value_eur) as avg_lifetime_value_eur,
        avg({{ relation }}.orders_in_window) as avg_orders_in_window,
        avg({{ relation }}.recency_days) as avg_recency_days,
        avg(case when {{ relation }}.buyer_type = 'repeat' then 1.0 else 0.0 end)
            as repeat_buyer_share
{%- endmacro %}
