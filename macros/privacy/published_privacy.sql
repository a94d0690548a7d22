{#
    What a published model declares about its privacy, read from its yml
    (meta.privacy) and from nowhere else: its quasi_identifiers, its
    sensitive_attribute, its subject_count_column (aggregated tables) and
    the guarantees k (meta.privacy.k, default var segments_k) and diversity
    (meta.privacy.diversity {kind, l, c}, see declared_diversity(); defaults
    vars segments_diversity_kind, segments_l and segments_diversity_c). The
    generic tests, the generalization and suppression models, the privacy
    post-hook and rpt_reidentification_risk all read these facts through
    this macro; the audit reads the same keys, with the same defaults, from
    the manifest.

    `node` is a graph node (or the `model` of a post-hook) or a model name.
    While dbt parses, and in a unit test (its context has no graph), only
    the vars are known: the lists are empty and k and the diversity are the
    vars (with the unit test's overrides). Returns {name, published,
    quasi_identifiers, sensitive_attribute, subject_count_column, k,
    diversity, l}, l being diversity.l.
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
    {%- set k = declared.get('k', var('segments_k')) -%}
    {%- if (k | int(-1)) < 2 or (k | float) != (k | int(-1)) -%}
        {{ exceptions.raise_compiler_error(
            where ~ "k must be a whole number of at least 2 (meta.privacy.k, default var "
            ~ "segments_k), got '" ~ k ~ "'") }}
    {%- endif -%}
    {%- if 'l' in declared -%}
        {{ exceptions.raise_compiler_error(
            where ~ "l is declared in meta.privacy.diversity.l (with the diversity kind), not in "
            ~ "meta.privacy.l") }}
    {%- endif -%}
    {%- set diversity = declared_diversity(declared.get('diversity'), where) -%}
    {{ return({
        'name': node.name if node else none,
        'published': true if declared.get('published') else false,
        'quasi_identifiers': quasi_identifiers | list,
        'sensitive_attribute': declared.get('sensitive_attribute'),
        'subject_count_column': declared.get('subject_count_column'),
        'k': k | int,
        'diversity': diversity,
        'l': diversity.l,
    }) }}
{% endmacro %}
