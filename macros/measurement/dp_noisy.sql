{#
    SQL expression: `value` plus Laplace noise from OpenDP, for a query of
    L1 `sensitivity` (what one subject can change it by) at `epsilon`.
    kind 'count' (integer, discrete Laplace) or 'sum' (float, Laplace).
    DuckDB: the functions registered by the dbt plugin (plugins/dp_noise.py);
    other adapters must supply their own vetted sampler.
#}
{% macro dp_noisy(kind, value, sensitivity, epsilon) %}
    {%- if kind not in ('count', 'sum') -%}
        {{ exceptions.raise_compiler_error(
            "dp_noisy(): kind must be 'count' or 'sum', got " ~ kind) }}
    {%- endif -%}
    {%- if (sensitivity | float) <= 0 or (epsilon | float) <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "dp_noisy(): sensitivity and epsilon must be positive") }}
    {%- endif -%}
    {{ return(adapter.dispatch('dp_noisy')(kind, value, sensitivity, epsilon)) }}
{% endmacro %}

{% macro default__dp_noisy(kind, value, sensitivity, epsilon) %}
    {{ exceptions.raise_compiler_error(
        "dp_noisy(): no vetted noise sampler for adapter " ~ adapter.type()
        ~ "; the DuckDB one is registered by plugins/dp_noise.py") }}
{% endmacro %}

{% macro duckdb__dp_noisy(kind, value, sensitivity, epsilon) -%}
    {%- if kind == 'count' -%}
        dp_noisy_count(
            cast({{ value }} as bigint), {{ sensitivity | float }}, {{ epsilon | float }}
        )
    {%- else -%}
        dp_noisy_sum(
            cast({{ value }} as double), {{ sensitivity | float }}, {{ epsilon | float }}
        )
    {%- endif -%}
{%- endmacro %}

{#- Spark: the same functions, registered in the session by the launcher
    (scripts/privseg/spark/functions.py) from plugins/dp_noise.py, non-deterministic there
    as on DuckDB. #}
{% macro spark__dp_noisy(kind, value, sensitivity, epsilon) -%}
    {{ return(duckdb__dp_noisy(kind, value, sensitivity, epsilon)) }}
{%- endmacro %}
