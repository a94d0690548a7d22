{#
    Scalar SQL functions whose name differs between the engines, one
    dispatched macro each (default: DuckDB's spelling; spark__: Spark SQL's).
#}

{#- Boolean: `text` begins with `prefix`. #}
{% macro text_starts_with(text, prefix) -%}
    {{ return(adapter.dispatch('text_starts_with', 'privacy_segmentation')(text, prefix)) }}
{%- endmacro %}

{% macro default__text_starts_with(text, prefix) -%}
    starts_with({{ text }}, {{ prefix }})
{%- endmacro %}

{% macro spark__text_starts_with(text, prefix) -%}
    startswith({{ text }}, {{ prefix }})
{%- endmacro %}

{#- Boolean: the regular expression `pattern` matches somewhere in `text` (not anchored). #}
{% macro text_matches(text, pattern) -%}
    {{ return(adapter.dispatch('text_matches', 'privacy_segmentation')(text, pattern)) }}
{%- endmacro %}

{% macro default__text_matches(text, pattern) -%}
    regexp_matches({{ text }}, {{ pattern }})
{%- endmacro %}

{% macro spark__text_matches(text, pattern) -%}
    regexp_like({{ text }}, {{ pattern }})
{%- endmacro %}

{#- An expression that fails the query with `message` (a SQL string expression) when evaluated. #}
{% macro sql_error(message) -%}
    {{ return(adapter.dispatch('sql_error', 'privacy_segmentation')(message)) }}
{%- endmacro %}

{% macro default__sql_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__sql_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}
