{#
    on-run-end hook: record which dbt invocation last wrote the warehouse, in
    main.dbt_build_id (one row: build_id = invocation_id, command, finished_at).
    The audit reads it and records it; the publish step refuses a warehouse
    whose build id is not the audited one (a build by hand in between).
    Commands that write nothing (test, run-operation, docs) leave it alone.
#}
{% macro record_build_id() -%}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'seed', 'snapshot') -%}
        {{ return('select 1') }}
    {%- endif -%}
    {{ return(adapter.dispatch('record_build_id', 'privacy_segmentation')()) }}
{%- endmacro %}

{% macro default__record_build_id() -%}
    create or replace table main.dbt_build_id as
    select
        '{{ invocation_id }}' as build_id,
        '{{ flags.WHICH }}' as command,
        current_timestamp as finished_at
{%- endmacro %}

{#- Spark has no CREATE OR REPLACE for Parquet tables: the old one is dropped first. -#}
{% macro spark__record_build_id() -%}
    {%- do run_query("create schema if not exists main") -%}
    {%- do run_query("drop table if exists main.dbt_build_id") -%}
    create table main.dbt_build_id using parquet as
    select
        '{{ invocation_id }}' as build_id,
        '{{ flags.WHICH }}' as command,
        current_timestamp() as finished_at
{%- endmacro %}
