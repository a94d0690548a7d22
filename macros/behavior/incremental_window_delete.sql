{#
    pre-hook of every incremental model dated by its within_retention column
    (the event facts, the pseudonymized orders, email events and sends, web
    events and consent events):
    on an incremental run, delete the late-arriving-data window (rows dated
    on or after the newest date in the table minus var
    behavior_lookback_days). The model then re-inserts every row newer than
    what remains (incremental_rows_filter), so a corrected or late row
    inside the window replaces the old one. Every row goes (a rebuild, with
    a log line) when raw files changed this run, since what a changed file
    fed may be older than the window, and when the table holds rows dated
    after the run's as_of: as_of moved back, and rows of any date may be
    valid again (a duplicate id whose winner is now in the future, a
    retention start moved back). The date is the
    column of the model's within_retention test (retention_declaration),
    compared by day, so a timestamp column works too. Runs in the model's
    transaction: a failed run leaves the table as it was (on Spark,
    delete_where rewrites the table without the window).
#}
{% macro incremental_window_delete() -%}
    {%- if is_incremental() -%}
        {%- set lookback = behavior_lookback_days() -%}
        {%- set date_column = retention_declaration().date_column -%}
        {%- set moved_back = run_query(
            "select count(*) from " ~ this ~ " where cast(" ~ date_column ~ " as date) > "
            ~ as_of_date()).rows[0][0] > 0 -%}
        {%- if raw_files_changed_this_run() -%}
            {%- do log(this.identifier ~ ": raw files changed or deleted this run; "
                ~ "rebuilding every row", info=true) -%}
            {{ delete_where(this, 'true') }}
        {%- elif moved_back -%}
            {%- do log(this.identifier ~ ": as_of moved back before rows it holds; "
                ~ "rebuilding every row", info=true) -%}
            {{ delete_where(this, 'true') }}
        {%- else -%}
            {{ delete_where(this,
                'cast(' ~ date_column ~ ' as date) >= ('
                ~ 'select cast(max(loaded.' ~ date_column ~ ') as date) - ' ~ (lookback | int)
                ~ ' from ' ~ this ~ ' as loaded)') }}
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
