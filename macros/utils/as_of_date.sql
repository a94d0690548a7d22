{#
    The run's as-of date as a SQL date literal: var `as_of` (ISO date) or,
    when unset, today's date. Every "now" in the project goes through here,
    so a run with the same data and the same as_of is reproducible.
#}
{% macro as_of_date() -%}
    {%- set raw = var('as_of', none) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {%- set iso = modules.datetime.date.today().isoformat() -%}
    {%- else -%}
        {%- set iso = raw | string | trim -%}
        {%- set iso_date = '[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' -%}
        {%- if not modules.re.fullmatch(iso_date, iso) -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of' must be an ISO date like 2026-06-30, got '" ~ iso ~ "'. "
                ~ "Pass it as: dbt build --vars '{as_of: 2026-06-30}'") }}
        {%- endif -%}
        {%- set iso = modules.datetime.date.fromisoformat(iso).isoformat() -%}
    {%- endif -%}
    date '{{ iso }}'
{%- endmacro %}
