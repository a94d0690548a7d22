{#
    The retention rule an incremental model declares in its yml: its one
    within_retention test, whose column is the model's date and whose
    data_category is the retention policy. The window delete, the filter
    and the purge of every incremental model (event facts, pseudonymized
    layer) read it, so what they keep cannot drift from what the test
    checks. Returns {date_column, data_category}; both none while dbt
    parses.
#}
{% macro retention_declaration() %}
    {%- if not execute -%}
        {{ return({'date_column': none, 'data_category': none}) }}
    {%- endif -%}
    {%- set rules = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'test' and node.get('attached_node') == model.unique_id
        and (node.test_metadata or {}).get('name') == 'within_retention' -%}
        {%- do rules.append(node.test_metadata.kwargs) -%}
    {%- endfor -%}
    {%- if rules | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": an incremental model declares exactly one within_retention test, on"
            ~ " its date column (found " ~ (rules | length) ~ ")") }}
    {%- endif -%}
    {{ return({
        'date_column': rules[0].column_name,
        'data_category': rules[0].data_category,
    }) }}
{% endmacro %}
