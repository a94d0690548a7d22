{#
    Select of the `columns` of `upstream` (a model name) that an
    incremental event fact inserts in this run: the rows event_fact_filter
    lets through (subjects in scope; on an incremental run only the window
    and the backfill). The one way an event fact reads its events, so none
    can forget the scope or the window.
#}
{% macro event_fact_rows(upstream, columns) %}
    {%- if columns is string or not columns -%}
        {{ exceptions.raise_compiler_error(
            "event_fact_rows(): columns must be a non-empty list, got " ~ columns) }}
    {%- endif %}
    select
        {%- for column in columns %}
        upstream.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref(upstream) }} as upstream
    where {{ event_fact_filter('upstream') }}
{%- endmacro %}
