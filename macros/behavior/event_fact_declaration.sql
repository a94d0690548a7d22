{#
    What an incremental event fact (models/marts/behavior/events) declares
    in its yml, for the macros that keep it incremental (the window delete
    and filter, the scope, the purge): its consent purpose
    (meta.privacy.consent_purpose) and its retention rule
    (retention_declaration: the column and data_category of its one
    within_retention test). The purge deletes exactly what that test
    checks, so the two cannot drift apart. Returns {purpose, date_column,
    data_category}; every value is none while dbt parses.
#}
{% macro event_fact_declaration() %}
    {%- if not execute -%}
        {{ return({'purpose': none, 'date_column': none, 'data_category': none}) }}
    {%- endif -%}
    {%- set purpose = model.config.meta.get('privacy', {}).get('consent_purpose') -%}
    {%- if not purpose -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": an incremental event fact declares meta.privacy.consent_purpose"
            ~ " (found '" ~ purpose ~ "')") }}
    {%- endif -%}
    {%- set rule = retention_declaration() -%}
    {{ return({
        'purpose': purpose,
        'date_column': rule.date_column,
        'data_category': rule.data_category,
    }) }}
{% endmacro %}
