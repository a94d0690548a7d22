{#
    A deterministic, cheap-to-sort fingerprint of a row's raw columns, used
    only to break ties between duplicates. NULL and '' hash differently.
#}
{% macro row_fingerprint(columns, relation_alias) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'privacy_segmentation')(
        columns, relation_alias)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns, relation_alias) -%}
    md5(concat_ws('|'
        {%- for column in columns %},
        coalesce({{ relation_alias }}.{{ column }}, '\u0000')
        {%- endfor %}
    ))
{%- endmacro %}

{% macro duckdb__row_fingerprint(columns, relation_alias) -%}
    hash(
        {%- for column in columns %}
        {{ relation_alias }}.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
