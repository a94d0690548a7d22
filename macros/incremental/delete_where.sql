{#
    The SQL of a hook that deletes the rows of `relation` for which
    `predicate` is true (rows where it is NULL stay, as with DELETE), for the
    purges of the incremental models (purge_expired_and_erased,
    rows_follow_subjects, order_lines_follow_parents, the erasure log's
    retention, files_read_rebuild_delete).
#}
{% macro delete_where(relation, predicate) -%}
    {{ return(adapter.dispatch('delete_where', 'privacy_segmentation')(relation, predicate)) }}
{%- endmacro %}

{% macro default__delete_where(relation, predicate) -%}
    delete from {{ relation }}
    where {{ predicate }}
{%- endmacro %}

{#
    Spark on plain Parquet has no DELETE: when a row matches, the table is
    written again whole (INSERT OVERWRITE) from a copy of the rows that stay,
    the way spark__purge_erased_raw_rows rewrites the typed_ tables; Spark
    deletes the table's old files, so no deleted value stays. Nothing
    matching, nothing is written. Runs its statements itself and returns a
    no-op for the hook.
#}
{% macro spark__delete_where(relation, predicate) -%}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set matching = run_query(
        'select count(*) from ' ~ relation ~ ' where ' ~ predicate).rows[0][0] -%}
    {%- if matching > 0 -%}
        {%- set kept = relation.schema ~ '.' ~ relation.identifier ~ '__kept' -%}
        {#- A copy left by a run stopped between these statements holds only
            rows that stay: it is replaced. #}
        {%- call statement('delete_where_stale_copy') -%}
            drop table if exists {{ kept }}
        {%- endcall -%}
        {%- call statement('delete_where_copy') -%}
            create table {{ kept }} using parquet as
            select * from {{ relation }}
            where not coalesce(({{ predicate }}), false)
        {%- endcall -%}
        {%- call statement('delete_where_overwrite') -%}
            insert overwrite table {{ relation }}
            select * from {{ kept }}
        {%- endcall -%}
        {%- call statement('delete_where_drop') -%}
            drop table {{ kept }}
        {%- endcall -%}
    {%- endif -%}
    {{ return('select 1') }}
{%- endmacro %}
