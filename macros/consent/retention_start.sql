{#
    The first date still inside the retention policy of `data_category`
    (seed retention_policies) as of the run: rows dated before it are
    expired. A category without a policy fails the query rather than
    keeping (or dropping) everything silently.
#}
{% macro retention_start(data_category) -%}
    (
        select
            case
                when count(*) = 0
                    then {{ sql_error(
                        "'no retention policy for data category " ~ data_category
                        ~ " in seed retention_policies'") }}
                else {{ as_of_date() }} - cast(max(retention_policies.retention_days) as integer)
            end
        from {{ ref('retention_policies') }} as retention_policies
        where retention_policies.data_category = '{{ data_category }}'
    )
{%- endmacro %}
