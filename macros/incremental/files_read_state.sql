{#
    What an incremental model keyed by subject (int_customers_pseudonymized)
    last read, so that a run reloads only the subjects that can differ:
    the raw files of its typed_ model it has read (name, size, modification
    time) and the as_of of that run, in the table
    staging.<model>__files_read (file names and a date only). The post-hook
    files_read_record writes it at the end of every run of the model, full
    refresh included; files_read_state reads it.

    files_read_state(): {'rebuild': true} when the model must reload every
    subject: a first build or a --full-refresh, no record, raw files changed
    or deleted this run (raw_files_changed_this_run), or as_of moved back
    (rows valid at the later as_of may be rejected now, future_timestamp).
    Otherwise {'rebuild': false, 'as_of': the recorded as_of (a SQL date)}.
#}
{% macro files_read_relation() -%}
    {{ return(api.Relation.create(
        database=this.database, schema='staging', identifier=this.identifier ~ '__files_read')) }}
{%- endmacro %}

{% macro files_read_state() -%}
    {%- if not (execute and is_incremental()) or raw_files_changed_this_run() -%}
        {{ return({'rebuild': true}) }}
    {%- endif -%}
    {%- set record = files_read_relation() -%}
    {%- set exists = run_query(
        "select count(*) from information_schema.tables where table_catalog = '"
        ~ record.database ~ "' and table_schema = '" ~ record.schema
        ~ "' and table_name = '" ~ record.identifier ~ "'").rows[0][0] -%}
    {%- if exists == 0 -%}
        {{ return({'rebuild': true}) }}
    {%- endif -%}
    {%- set recorded = run_query(
        "select max(as_of_date), max(as_of_date) > " ~ as_of_date()
        ~ " from " ~ record).rows[0] -%}
    {%- if recorded[0] is none or recorded[1] -%}
        {{ return({'rebuild': true}) }}
    {%- endif -%}
    {{ return({'rebuild': false, 'as_of': "date '" ~ recorded[0] ~ "'"}) }}
{%- endmacro %}

{#
    Select of the typed rows (`typed_model`) of raw files the model has not
    read with this size and modification time.
#}
{% macro rows_of_unread_files(typed_model) -%}
    select typed_rows.*
    from {{ ref(typed_model) }} as typed_rows
    where not exists (
        select 1
        from {{ files_read_relation() }} as record
        where
            record._source_file = typed_rows._source_file
            and record._source_file_size = typed_rows._source_file_size
            and record._source_file_modified = typed_rows._source_file_modified
    )
{%- endmacro %}

{# pre-hook: a rebuild starts from an empty table (delete+insert keeps what it does not load). #}
{% macro files_read_rebuild_delete() -%}
    {%- if is_incremental() and files_read_state().rebuild -%}
        {%- do log(this.identifier ~ ": rebuilding every row", info=true) -%}
        {{ delete_where(this, 'true') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{# post-hook: record the files read and the run's as_of. #}
{% macro files_read_record(typed_model) -%}
    {{ return(adapter.dispatch('files_read_record', 'privacy_segmentation')(typed_model)) }}
{%- endmacro %}

{% macro default__files_read_record(typed_model) -%}
    create or replace table {{ files_read_relation() }} as
    {{ files_read_rows(typed_model) }}
{%- endmacro %}

{#- Spark: no CREATE OR REPLACE for a Parquet table; dropped, then created. #}
{% macro spark__files_read_record(typed_model) -%}
    {%- if execute -%}
        {%- call statement('files_read_drop') -%}
            drop table if exists {{ files_read_relation() }}
        {%- endcall -%}
    {%- endif -%}
    create table {{ files_read_relation() }} using parquet as
    {{ files_read_rows(typed_model) }}
{%- endmacro %}

{# Select of the files of `typed_model` read and the run's as_of (files_read_record). #}
{% macro files_read_rows(typed_model) -%}
    select distinct
        typed_rows._source_file,
        typed_rows._source_file_size,
        typed_rows._source_file_modified,
        {{ as_of_date() }} as as_of_date
    from {{ ref(typed_model) }} as typed_rows
{%- endmacro %}
