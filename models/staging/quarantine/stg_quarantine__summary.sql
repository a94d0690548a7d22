{#
    Materialized as a table (an exception to the staging default) so the
    privacy audit and the pipeline summary read the counts of this build
    without re-reading the raw files. Counts only: no ids, no values.
#}
{{ config(materialized='table') }}

with

rejected_rows as (
    select
        source_name,
        source_table,
        reject_reason
    from {{ ref('stg_quarantine__rejected_rows') }}
),

rejected_rows_counted as (
    select
        source_name,
        source_table,
        reject_reason,
        count(*) as rejected_row_count
    from rejected_rows
    group by source_name, source_table, reject_reason
),

final as (
    select
        source_name,
        source_table,
        reject_reason,
        rejected_row_count,
        {{ as_of_date() }} as as_of_date
    from rejected_rows_counted
)

select * from final
