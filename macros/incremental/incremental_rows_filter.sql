{#
    Predicate of the upstream rows an incremental model inserts on an
    incremental run, after incremental_window_delete: rows dated after the
    newest row left (the late-data window and new days) and rows dated
    before the oldest row left (a retention policy lengthened in seed
    retention_policies moves the retention start back: those rows return,
    as in a full refresh). Every row when the window delete emptied the
    table (raw files changed, as_of moved back); true on a first build and
    a --full-refresh. The date is the model's within_retention
    column (retention_declaration). `date_expression` is the upstream's value
    of that column in the model's import CTE (e.g. 'upstream.ordered_date',
    or 'cast(orders.ordered_at as date)' before the timestamp is
    generalized): filtering there, before joins and hashing, is what makes
    the run cheap.
#}
{% macro incremental_rows_filter(date_expression) -%}
    {%- if is_incremental() and not raw_files_changed_this_run() -%}
        {%- set date_column = retention_declaration().date_column -%}
        (
            {{ date_expression }} > (
                select coalesce(max(loaded.{{ date_column }}), date '0001-01-01')
                from {{ this }} as loaded
            )
            or {{ date_expression }} < (
                select coalesce(min(loaded.{{ date_column }}), date '0001-01-01')
                from {{ this }} as loaded
            )
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
