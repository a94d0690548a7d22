{#
    What a published model declares about its privacy, read from its yml
    (meta.privacy) and from nowhere else: its quasi_identifiers, its
    sensitive_attribute, its subject_count_column (aggregated tables) and
    the guarantees k (meta.privacy.k, default var segments_k) and l
    (meta.privacy.l, default var segments_l). The generic tests, the
    generalization and suppression models, the privacy post-hook and
    rpt_reidentification_risk all read these facts through this macro; the
    audit reads the same keys, with the same defaults, from the manifest.

    `node` is a graph node (or the `model` of a post-hook) or a model name.
    While dbt parses, and in a unit test (its context has no graph), only
    the vars are known: the lists are empty and k and l are the vars (with
    the unit test's overrides). Returns {name, published, quasi_identifiers,
    sensitive_attribute, subject_count_column, k, l}.
#}
{% macro published_privacy(node) %}
    {%- set nodes = graph.get('nodes') or {} if execute else {} -%}
    {%- if node is string -%}
        {%- set name = node -%}
        {%- set node = nodes.get('model.' ~ project_name ~ '.' ~ name) -%}
        {%- if node is none and nodes -%}
            {{ exceptions.raise_compiler_error(
                "published_privacy(): no model named '" ~ name ~ "' in this project") }}
        {%- endif -%}
    {%- endif -%}
    {%- set declared = ((node.config.meta if node else {}).get('privacy')) or {} -%}
    {%- set where = "meta.privacy of " ~ (node.name if node else 'the model') ~ ": " -%}
    {%- set quasi_identifiers = declared.get('quasi_identifiers') or [] -%}
    {%- if quasi_identifiers is string -%}
        {{ exceptions.raise_compiler_error(
            where ~ "quasi_identifiers must be a list of columns, got '"
            ~ quasi_identifiers ~ "'") }}
    {%- endif -%}
    {%- set guarantees = {} -%}
    {%- for guarantee, default_var, minimum in [('k', 'segments_k', 2), ('l', 'segments_l', 1)] -%}
        {%- set value = declared.get(guarantee, var(default_var)) -%}
        {%- if (value | int(-1)) < minimum or (value | float) != (value | int(-1)) -%}
            {{ exceptions.raise_compiler_error(
                where ~ guarantee ~ " must be a whole number of at least " ~ minimum
                ~ " (meta.privacy."
                ~ guarantee ~ ", default var " ~ default_var ~ "), got '" ~ value ~ "'") }}
        {%- endif -%}
        {%- do guarantees.update({guarantee: value | int}) -%}
    {%- endfor -%}
    {{ return({
        'name': node.name if node else none,
        'published': true if declared.get('published') else false,
        'quasi_identifiers': quasi_identifiers | list,
        'sensitive_attribute': declared.get('sensitive_attribute'),
        'subject_count_column': declared.get('subject_count_column'),
        'k': guarantees.k,
        'l': guarantees.l,
    }) }}
{% endmacro %}
