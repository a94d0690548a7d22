{#
    on-run-start hook: compare the key in use (its fingerprint, set by the
    pseudonym_key plugin) with the one recorded by the last build in
    int_pseudonym_key_registry. A different key changes every pseudonym, so
    keeping any table built with the old one (incremental tables above all)
    would mix two pseudonym spaces. The run stops unless it is a full refresh.
#}
{% macro check_pseudonym_key() %}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'test') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set current = run_query("select " ~ pseudonym_key_fingerprint()).columns[0].values()[0] -%}
    {%- set registry = adapter.get_relation(
        database=target.database, schema='pseudonymized',
        identifier='int_pseudonym_key_registry') -%}
    {%- if registry is none or flags.FULL_REFRESH -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stored = run_query("select key_fingerprint from " ~ registry).columns[0].values() -%}
    {%- if stored | length > 0 and stored[0] != current -%}
        {{ exceptions.raise_compiler_error(
            "The pseudonymization key changed since the last build of " ~ target.path
            ~ " (key fingerprint " ~ stored[0] ~ ", now " ~ current ~ "). Every pseudonym changes "
            ~ "with the key, so the tables built with the old key, incremental ones above all, "
            ~ "would mix two sets of pseudonyms. If you meant to rotate the key, rebuild "
            ~ "everything from raw: `dbt build --full-refresh` (or `python scripts/pipeline.py "
            ~ "build --full-refresh`). If not, restore the previous key in "
            ~ "DBT_ENV_SECRET_PSEUDONYM_KEY.") }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
