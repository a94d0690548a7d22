{#
    on-run-end hook (before the checkpoint): the typed_ tables hold raw rows,
    so an erasure reaches them too. Every row of an erased subject (a
    customer with an accepted erasure request, the rule of not_erased) in a
    typed_ table becomes a tombstone: its primary key and customer_id (the
    same raw id the erasure request itself keeps, as a number), its file
    and row number, the hash that broke ties between its duplicates, and
    the reject reason it had (`_erased_reason`); every
    other value NULL. The full row is deleted, so compaction removes its
    bytes from the file. Order items go with their order.

    The tombstone keeps what other rows' checks need (an erased customer's
    erasure request and orders stay non-orphans) and what the quarantine
    counts (a rejected row stays counted, under its reason), so a build
    from scratch, whose rows are tombstoned the same way at its end, leaves
    the same tables. The erasure request rows are the erasure's record and
    stay as they are. Runs after build and run only, once every typed_
    table and the staging views exist.
#}
{% macro purge_erased_raw_rows() -%}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set tables = ['customers', 'orders', 'order_items', 'web_events', 'email_events',
        'consent_events', 'preferences'] -%}
    {#- Hooks cannot ref(): the staging relations are looked up (schema staging). #}
    {%- set relations = {} -%}
    {%- set names = ['stg_preference_center__erasure_requests'] -%}
    {%- for name in tables + ['erasure_requests'] -%}
        {%- do names.extend([raw_table_spec(name).typed_model, raw_table_spec(name).base_model]) -%}
    {%- endfor -%}
    {%- for name in names -%}
        {%- set relation = adapter.get_relation(target.database, 'staging', name) -%}
        {%- if relation is none -%}
            {{ return('select 1') }}
        {%- endif -%}
        {%- do relations.update({name: relation}) -%}
    {%- endfor -%}
    {%- set erasure_view = relations['stg_preference_center__erasure_requests'] -%}
    {%- set erased_ids -%}
        select erasure_requests.customer_id
        from {{ erasure_view }} as erasure_requests
        where erasure_requests.request_status in ('received', 'completed')
    {%- endset -%}
    {{ return(adapter.dispatch('purge_erased_raw_rows', 'privacy_segmentation')(
        tables, relations, erased_ids)) }}
{%- endmacro %}

{#
    The tombstones of one typed_ table: a select of the rows of erased
    subjects that are not tombstones yet, as purge_erased_raw_rows describes.
#}
{% macro erased_tombstones(name, relations, erased_ids) -%}
    {%- set spec = raw_table_spec(name) -%}
    {%- set typed = relations[spec.typed_model] -%}
    {%- set kept = [spec.primary_key] + (['customer_id']
        if 'customer_id' in spec.columns and spec.primary_key != 'customer_id' else []) -%}
    {%- if name == 'order_items' -%}
        {%- set erased_rows -%}
            typed.order_id in (
                select orders.order_id from {{ relations['typed_shop__orders'] }}
                    as orders
                where orders.customer_id in ({{ erased_ids }})
            )
        {%- endset -%}
    {%- else -%}
        {%- set erased_rows = 'typed.customer_id in (' ~ erased_ids ~ ')' -%}
    {%- endif %}
    select
        {%- for column, data_type in spec.columns.items() %}
        {% if column in kept -%}
        typed.{{ column }}
        {%- else -%}
        cast(null as {{ 'string' if data_type | lower == 'varchar' else data_type }})
            as {{ column }}
        {%- endif %},
        {%- endfor %}
        typed._source_file,
        typed._source_file_size,
        typed._source_file_modified,
        typed._source_row_number,
        cast(null as string) as _raw_id,
        typed._row_fingerprint,
        cast(null as string) as _row_reason,
        cast(null as string) as _value_reason,
        true as _erased,
        validated._reject_reason as _erased_reason
    from {{ typed }} as typed
    inner join {{ relations[spec.base_model] }} as validated
        on
            validated._source_file = typed._source_file
            and validated._source_row_number = typed._source_row_number
    where not typed._erased and {{ erased_rows }}
{%- endmacro %}

{% macro default__purge_erased_raw_rows(tables, relations, erased_ids) -%}
    {#- Tombstones first, for every table, while the base_ views still see full rows. #}
    {%- for name in tables -%}
        {%- call statement('tombstones_' ~ name) -%}
            create or replace temp table erased_{{ name }} as
            {{ erased_tombstones(name, relations, erased_ids) }}
        {%- endcall -%}
    {%- endfor -%}
    {%- for name in tables -%}
        {%- set typed = relations[raw_table_spec(name).typed_model] -%}
        {%- call statement('purge_' ~ name) -%}
            delete from {{ typed }}
            using erased_{{ name }} as erased
            where
                not {{ typed }}._erased
                and {{ typed }}._source_file = erased._source_file
                and {{ typed }}._source_row_number = erased._source_row_number;
            insert into {{ typed }} by name select * from erased_{{ name }};
            drop table erased_{{ name }}
        {%- endcall -%}
    {%- endfor -%}
    {#- Committed here: the checkpoint hook after this one needs no open transaction. #}
    {%- do adapter.commit() -%}
    {{ return('select 1') }}
{%- endmacro %}

{#
    Spark on plain Parquet has no DELETE: a typed_ table has a partition per
    source file (dbt_project.yml), and the partitions (files) holding an erased
    subject's rows that are not tombstones yet are written again
    (INSERT OVERWRITE, dynamic: only the partitions written) from a copy of
    them in which those rows are their tombstones. Spark refuses to overwrite a
    table it reads in the same statement, hence the copy. Every copy is made
    first, while the base_ views still see full rows; Spark deletes the
    overwritten partitions' old files, so no erased value stays. No such row,
    nothing is written.
#}
{% macro spark__purge_erased_raw_rows(tables, relations, erased_ids) -%}
    {%- set copies = [] -%}
    {%- for name in tables -%}
        {%- set spec = raw_table_spec(name) -%}
        {%- set typed = relations[spec.typed_model] -%}
        {%- set copy = typed.schema ~ '.' ~ typed.identifier ~ '__purged' -%}
        {#- The partition column last, as Spark orders a partitioned table's columns. #}
        {%- set columns = (spec.columns | list) + ['_source_file_size',
            '_source_file_modified', '_source_row_number', '_raw_id', '_row_fingerprint',
            '_row_reason', '_value_reason', '_erased', '_erased_reason', '_source_file'] -%}
        {#- A copy left by a run stopped between these statements: replaced. #}
        {%- call statement('tombstones_stale_' ~ name) -%}
            drop table if exists {{ copy }}
        {%- endcall -%}
        {%- call statement('tombstones_' ~ name) -%}
            create table {{ copy }} using parquet as
            with erased as (
                {{ erased_tombstones(name, relations, erased_ids) }}
            )
            select {{ columns | join(', ') }} from erased
            union all
            select {{ columns | join(', ') }}
            from {{ typed }} as typed
            where
                typed._source_file in (select erased._source_file from erased)
                and not exists (
                    select 1 from erased
                    where
                        erased._source_file = typed._source_file
                        and erased._source_row_number = typed._source_row_number
                )
        {%- endcall -%}
        {%- do copies.append((typed, copy, columns)) -%}
    {%- endfor -%}
    {%- call statement('purge_overwrite_mode') -%}
        set spark.sql.sources.partitionOverwriteMode = DYNAMIC
    {%- endcall -%}
    {%- for typed, copy, columns in copies -%}
        {%- if run_query('select count(*) from ' ~ copy).rows[0][0] > 0 -%}
            {%- call statement('purge_' ~ loop.index) -%}
                insert overwrite table {{ typed }} partition (_source_file)
                select {{ columns | join(', ') }} from {{ copy }}
            {%- endcall -%}
        {%- endif -%}
        {%- call statement('purged_' ~ loop.index) -%}
            drop table {{ copy }}
        {%- endcall -%}
    {%- endfor -%}
    {{ return('select 1') }}
{%- endmacro %}
