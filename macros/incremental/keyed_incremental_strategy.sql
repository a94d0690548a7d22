{#
    The incremental_strategy of a model that replaces its rows by unique_key
    (`config(incremental_strategy=keyed_incremental_strategy())`):
    delete+insert on DuckDB. dbt-spark on plain Parquet has neither
    delete+insert nor merge (merge needs Delta, Iceberg or Hudi), and on
    Spark these models are rebuilt in full on every run (their full_refresh
    config, keyed_full_refresh below; docs/spark.md), so no strategy is
    ever applied there:
    it is 'append', and an incremental run on Spark stops with an error
    rather than append a second copy of rows it should replace. Except with
    `new_keys_only`: a model whose incremental run inserts only keys it does
    not hold yet (int_erasure_log, never fully refreshed), for which append
    is what delete+insert does.
#}
{% macro keyed_incremental_strategy(new_keys_only=false) -%}
    {{ return(adapter.dispatch('keyed_incremental_strategy', 'privacy_segmentation')(
        new_keys_only)) }}
{%- endmacro %}

{% macro default__keyed_incremental_strategy(new_keys_only) -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__keyed_incremental_strategy(new_keys_only) -%}
    {%- if execute and not new_keys_only and is_incremental() -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ": incremental runs are not supported on Spark yet (plain Parquet "
            ~ "has no delete+insert): it needs config(full_refresh=keyed_full_refresh()), "
            ~ "true on Spark (docs/spark.md, Not supported yet)") }}
    {%- endif -%}
    {{ return('append') }}
{%- endmacro %}

{#
    The full_refresh config of a model that replaces its rows by unique_key
    (`config(full_refresh=keyed_full_refresh())`, next to its
    keyed_incremental_strategy): unset on DuckDB (a run is incremental unless
    --full-refresh); true on Spark, where plain Parquet has no delete+insert,
    so the model is rebuilt in full on every run. The models that append
    (the event-dated pseudonymized tables and event facts, their window
    delete and purges through delete_where) run incrementally on both.
#}
{% macro keyed_full_refresh() -%}
    {{ return(adapter.dispatch('keyed_full_refresh', 'privacy_segmentation')()) }}
{%- endmacro %}

{% macro default__keyed_full_refresh() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__keyed_full_refresh() -%}
    {{ return(true) }}
{%- endmacro %}
