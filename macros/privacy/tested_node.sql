{#
    The graph node (model or seed) a generic test is attached to, so that
    the test can read what the node declares (published_privacy). Call it
    from the body of a test: there `model` is the relation under test, but
    inside this macro `model` is the test node itself. none while dbt
    parses (nothing is executed then).
#}
{% macro tested_node() %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if model.resource_type != 'test' or not model.get('attached_node') -%}
        {{ exceptions.raise_compiler_error(
            "tested_node(): call it from a generic test attached to a model or seed, not from "
            ~ model.unique_id) }}
    {%- endif -%}
    {{ return(graph.nodes.get(model.attached_node)) }}
{% endmacro %}
