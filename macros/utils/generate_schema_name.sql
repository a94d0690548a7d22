{#
    Use the folder's custom schema name as is (staging, pseudonymized, ...)
    instead of dbt's default "<target_schema>_<custom>", so BI tools and the
    audit find each layer under one stable name in every environment.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
