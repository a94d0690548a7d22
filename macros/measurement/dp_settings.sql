{#
    The differential-privacy settings a published measurement model declares
    in meta.privacy.differential_privacy, validated, or none when DP is off
    for it (block absent or enabled: false) and while dbt parses.

    Checks the per-release budget: the epsilon of every DP-enabled model
    selected in this invocation (one build = one release), plus this one,
    must not exceed var measurement_dp_epsilon_budget; otherwise the model
    fails, naming the models and their epsilon. Returns
    {model, epsilon, delta, mechanism, max_campaigns_per_subject,
     revenue_clamp_eur, budget}.
#}
{% macro dp_settings(model_name) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = (graph.get('nodes') or {}).get('model.' ~ project_name ~ '.' ~ model_name) -%}
    {%- if node is none and not graph.get('nodes') -%}
        {#- A unit test's context has no graph: DP off, as in its fixtures. #}
        {{ return(none) }}
    {%- endif -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error("dp_settings(): no model named '" ~ model_name ~ "'") }}
    {%- endif -%}
    {%- set declared = node.config.meta.get('privacy', {}).get('differential_privacy') -%}
    {%- if not declared or not declared.get('enabled') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set where = "meta.privacy.differential_privacy of " ~ model_name ~ ": " -%}
    {%- set epsilon = declared.get('epsilon') -%}
    {%- if epsilon is none or (epsilon | float) <= 0 -%}
        {{ exceptions.raise_compiler_error(
            where ~ "epsilon must be a positive number, got " ~ epsilon) }}
    {%- endif -%}
    {%- set cap = declared.get('max_campaigns_per_subject', 1) -%}
    {%- if (cap | int) < 1 or (cap | float) != (cap | int) -%}
        {{ exceptions.raise_compiler_error(
            where ~ "max_campaigns_per_subject must be a whole number of at least 1, got " ~ cap) }}
    {%- endif -%}
    {%- set clamp = declared.get('revenue_clamp_eur', 1) -%}
    {%- if (clamp | float) <= 0 -%}
        {{ exceptions.raise_compiler_error(
            where ~ "revenue_clamp_eur must be positive, got " ~ clamp) }}
    {%- endif -%}
    {%- set budget = var('measurement_dp_epsilon_budget') | float -%}
    {%- set spenders = [] -%}
    {%- set ns = namespace(total=0.0) -%}
    {%- for other in graph.nodes.values() if other.resource_type == 'model' -%}
        {%- set other_dp =
            other.config.meta.get('privacy', {}).get('differential_privacy') or {} -%}
        {%- if other_dp.get('enabled') and (
            other.unique_id in selected_resources or other.unique_id == node.unique_id) -%}
            {%- set ns.total = ns.total + (other_dp.get('epsilon') | float) -%}
            {%- do spenders.append(other.name ~ ' (epsilon ' ~ other_dp.get('epsilon') ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if ns.total > budget + 1e-9 -%}
        {{ exceptions.raise_compiler_error(
            "Differential privacy budget exceeded: this build would release "
            ~ (spenders | join(', ')) ~ ", epsilon " ~ ns.total
            ~ " in total, above var measurement_dp_epsilon_budget = " ~ budget
            ~ ". Lower the epsilon of a model, turn DP off for one (enabled: false), build them in "
            ~ "separate releases, or raise the budget deliberately.") }}
    {%- endif -%}
    {{ return({
        'model': model_name,
        'epsilon': epsilon | float,
        'delta': 0,
        'mechanism': 'laplace',
        'max_campaigns_per_subject': cap | int,
        'revenue_clamp_eur': clamp | float,
        'budget': budget,
    }) }}
{% endmacro %}
