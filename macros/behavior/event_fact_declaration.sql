{#
    What an incremental event fact (models/marts/behavior/events) declares
    in its yml, for the macros that keep it incremental (the window delete
    and filter, the scope, the purge): its consent purpose
    (meta.privacy.consent_purpose) and its retention rule, the one
    within_retention test of the model (its column is the fact's date, its
    data_category the retention policy). The purge deletes exactly what
    that test checks, so the two cannot drift apart. Returns {purpose,
    date_column, data_category}; every value is none while dbt parses.
#}
{% macro event_fact_declaration() %}
    {%- if not execute -%}
        {{ return({'purpose': none, 'date_column': none, 'data_category': none}) }}
    {%- endif -%}
    {%- set purpose = model.config.meta.get('privacy', {}).get('consent_purpose') -%}
    {%- set rules = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'test' and node.get('attached_node') == model.unique_id
        and (node.test_metadata or {}).get('name') == 'within_retention' -%}
        {%- do rules.append(node.test_metadata.kwargs) -%}
    {%- endfor -%}
    {%- if not purpose or rules | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": an incremental event fact declares meta.privacy.consent_purpose"
            ~ " (found '"
            ~ purpose ~ "') and exactly one within_retention test, on its date column (found "
            ~ (rules | length) ~ ")") }}
    {%- endif -%}
    {{ return({
        'purpose': purpose,
        'date_column': rules[0].column_name,
        'data_category': rules[0].data_category,
    }) }}
{% endmacro %}
