{#
    Invariant 5: no row older than its retention policy (seed
    retention_policies) as of the run. Returns the count of expired rows
    and the oldest date, no other values.
#}
{% test within_retention(model, column_name, data_category) %}

with

validation_errors as (
    select
        '{{ data_category }}' as data_category,
        count(*) as expired_rows,
        min({{ column_name }}) as oldest
    from {{ model }}
    where {{ column_name }} < {{ retention_start(data_category) }}
    having count(*) > 0
)

select * from validation_errors
{% endtest %}
