{#
    A deterministic, cheap-to-sort fingerprint of a row's raw columns, used
    only to break ties between duplicates: the first 15 hex digits of the
    SHA-256 of the columns joined with '|' (a NULL as '!', a value as
    '=' || value, so NULL and '' differ), as an integer. Every engine
    computes the same number (SHA-256 of UTF-8 text is standard), so which
    duplicate wins never depends on an engine's own hash function.
#}
{% macro row_fingerprint(columns, relation_alias) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'privacy_segmentation')(
        columns, relation_alias)) }}
{%- endmacro %}

{% macro row_fingerprint_text(columns, relation_alias) -%}
    concat_ws('|'
        {%- for column in columns %},
        coalesce('=' || {{ relation_alias }}.{{ column }}, '!')
        {%- endfor %}
    )
{%- endmacro %}

{% macro default__row_fingerprint(columns, relation_alias) -%}
    cast(('0x' || left(sha256({{ row_fingerprint_text(columns, relation_alias) }}), 15)) as ubigint)
{%- endmacro %}

{% macro spark__row_fingerprint(columns, relation_alias) -%}
    cast(conv(left(sha2({{ row_fingerprint_text(columns, relation_alias) }}, 256), 15), 16, 10)
        as bigint)
{%- endmacro %}
