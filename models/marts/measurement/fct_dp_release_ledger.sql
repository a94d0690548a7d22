{#-
    One row per differentially private model released by a build (one dbt
    invocation = one release): how much epsilon it spent and on what.
    Appended on every build, never rewritten, so the cumulative spend over
    releases can be read from it. Not published.

    Every model that can be DP (a differential_privacy block in its
    meta.privacy) must be listed in `dp_models` below so that the ledger
    builds after it; a model that declares DP but is missing here fails the
    ledger, as does one whose epsilon the ledger cannot read.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}
{%- set dp_models = {
    'rpt_campaign_performance': {
        'relation': ref('rpt_campaign_performance'),
        'groups': ref('int_campaign_cells_suppressed'),
        'group_filter': "cell_level = 'cell'",
        'sensitivity': 'counts: max_campaigns_per_subject; '
            ~ 'revenue: max_campaigns_per_subject x revenue_clamp_eur',
        'measures': 6,
    },
} -%}
{%- set releases = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and (node.config.meta.get('privacy', {}).get('differential_privacy') or {})
            .get('enabled') -%}
        {%- if node.name not in dp_models -%}
            {{ exceptions.raise_compiler_error(
                "fct_dp_release_ledger: " ~ node.name ~ " declares differential privacy but is not "
                ~ "listed in `dp_models` of this model; add it, so that its spend is recorded") }}
        {%- endif -%}
        {%- if node.unique_id in selected_resources -%}
            {%- do releases.append(dp_settings(node.name)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

with

{%- for release in releases %}
{%- set spec = dp_models[release.model] %}

{{ release.model }}_release as (
    select
        '{{ invocation_id }}' as release_id,
        '{{ release.model }}' as model_name,
        {{ as_of_date() }} as as_of_date,
        cast({{ release.epsilon }} as double) as epsilon,
        cast({{ release.delta }} as double) as delta,
        cast({{ release.budget }} as double) as epsilon_budget,
        'laplace (OpenDP make_laplace: discrete for counts, continuous for sums), '
        || 'epsilon split evenly over {{ spec.measures }} measures' as mechanism,
        '{{ spec.sensitivity }}' as sensitivity,
        cast({{ release.max_campaigns_per_subject }} as integer) as max_partitions_per_subject,
        cast({{ release.revenue_clamp_eur }} as double) as value_clamp,
        cast(count(*) as integer) as groups_declared,
        cast(count(*) filter (where not is_suppressed) as integer) as groups_released,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as released_at
    from {{ spec.groups }}
    where {{ spec.group_filter }}
),
{%- endfor %}

{#- Gives the table its columns, as its contract in the yml declares them, when no
    model is DP in this build (nothing released). #}
no_release as (
    select
        {%- for column in model.columns.values() %}
        cast(null as {{ column.data_type }}) as {{ column.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    where false
),

final as (
    {%- for release in releases %}
    select * from {{ release.model }}_release
    union all
    {%- endfor %}
    select * from no_release
)

select * from final
