{#
    post-hook of fct_customer_behavior_aggregates: date every row to the
    run's as_of. A row the run did not recompute holds the same aggregates
    at this as_of (behavior_aggregates_affected recomputes every row an
    as_of move changes); its as_of_date is what the next run compares to
    find that as_of moved back.
#}
{% macro behavior_aggregates_dated() -%}
    update {{ this }}
    set as_of_date = {{ as_of_date() }}
    where as_of_date <> {{ as_of_date() }}
{%- endmacro %}
