{#
    post-hook of fct_customer_behavior_aggregates: date every row to the
    run's as_of. A row the run did not recompute holds the same aggregates
    at this as_of (behavior_aggregates_affected recomputes every row an
    as_of move changes); its as_of_date is what the next run compares to
    find that as_of moved back.
#}
{% macro behavior_aggregates_dated() -%}
    {{ return(adapter.dispatch('behavior_aggregates_dated', 'privacy_segmentation')()) }}
{%- endmacro %}

{% macro default__behavior_aggregates_dated() -%}
    update {{ this }}
    set as_of_date = {{ as_of_date() }}
    where as_of_date <> {{ as_of_date() }}
{%- endmacro %}

{#
    Spark on plain Parquet has no UPDATE: when a row is dated otherwise, the
    table is written again (INSERT OVERWRITE) from a copy with every row
    dated to the run's as_of, as spark__delete_where does. After a full
    refresh (every Spark build) every row already is: one count. Runs its
    statements itself and returns a no-op for the hook.
#}
{% macro spark__behavior_aggregates_dated() -%}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set undated = run_query(
        'select count(*) from ' ~ this ~ ' where as_of_date <> ' ~ as_of_date()).rows[0][0] -%}
    {%- if undated > 0 -%}
        {%- set copy = this.schema ~ '.' ~ this.identifier ~ '__dated' -%}
        {%- set columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(this) -%}
            {%- do columns.append(
                as_of_date() ~ ' as as_of_date' if column.name | lower == 'as_of_date'
                else adapter.quote(column.name)) -%}
        {%- endfor -%}
        {%- call statement('aggregates_dated_stale_copy') -%}
            drop table if exists {{ copy }}
        {%- endcall -%}
        {%- call statement('aggregates_dated_copy') -%}
            create table {{ copy }} using parquet as
            select {{ columns | join(', ') }} from {{ this }}
        {%- endcall -%}
        {%- call statement('aggregates_dated_overwrite') -%}
            insert overwrite table {{ this }}
            select * from {{ copy }}
        {%- endcall -%}
        {%- call statement('aggregates_dated_drop') -%}
            drop table {{ copy }}
        {%- endcall -%}
    {%- endif -%}
    {{ return('select 1') }}
{%- endmacro %}
