{#
    Expression: the identity of a published row in the release, '<table>|<value>|...'
    from the row's key columns (its cell; for a row-level table, its class). The
    candidates model, the release decisions and the published model join on it. Key
    values are categories (bands, segments, months, campaign ids), never a person's.
#}
{% macro release_row_id(table_name, columns, relation=none) -%}
    {%- if columns is string or not columns -%}
        {{ exceptions.raise_compiler_error(
            "release_row_id(): columns must be a non-empty list, got " ~ columns) }}
    {%- endif -%}
    '{{ table_name }}'
    {%- for column in columns %}
    || '|' || coalesce(cast({{ (relation ~ '.') if relation else '' }}{{ column }} as string), '')
    {%- endfor %}
{%- endmacro %}
