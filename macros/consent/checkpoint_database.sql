{#
    on-run-end hook: CHECKPOINT the database so the WAL (which still holds
    the rows a run deleted or replaced) is folded into the file. Freed
    blocks of the file itself are only gone after compaction
    (scripts/pipeline.py compacts after every build; see docs/auditors.md,
    Consent, retention and erasure).
#}
{% macro checkpoint_database() -%}
    {{ return(adapter.dispatch('checkpoint_database', 'privacy_segmentation')()) }}
{%- endmacro %}

{% macro default__checkpoint_database() -%}
    select 1
{%- endmacro %}

{% macro duckdb__checkpoint_database() -%}
    checkpoint
{%- endmacro %}
