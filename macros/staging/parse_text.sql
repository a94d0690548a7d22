{#
    Cast text to a type, yielding NULL instead of an error when the text
    does not parse. Staging uses it so that a malformed value sends its row
    to quarantine instead of failing the build.

    Integers must be plain decimal digits on every engine: DuckDB's cast is
    lenient ('3.5' -> 4, '1e3' -> 1000, '0x1F' -> 31), and an id like that
    is a malformed value, not a number.
#}
{% macro parse_text(expression, data_type) -%}
    {{ return(adapter.dispatch('parse_text', 'privacy_segmentation')(expression, data_type)) }}
{%- endmacro %}

{% macro parse_text_is_integer(data_type) -%}
    {{ return(data_type | lower in ('bigint', 'integer', 'int', 'smallint', 'hugeint')) }}
{%- endmacro %}

{% macro default__parse_text(expression, data_type) -%}
    {%- if parse_text_is_integer(data_type) -%}
        case
            when regexp_full_match(trim({{ expression }}), '-?[0-9]{1,18}')
                then cast(trim({{ expression }}) as {{ data_type }})
        end
    {%- else -%}
        try_cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__parse_text(expression, data_type) -%}
    {%- if parse_text_is_integer(data_type) -%}
        case
            when trim({{ expression }}) rlike '^-?[0-9]{1,18}$'
                then try_cast(trim({{ expression }}) as {{ data_type }})
        end
    {%- else -%}
        try_cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
