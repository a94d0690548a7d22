{#-
    One row per candidate row of every published model (the models marked
    meta.privacy.published in the graph): its identity, the records or subjects it
    shows, the primary reason it may not be published on its own, and the counts and
    magnitudes it would publish, as the release document's rows (JSON; the engine in
    plugins/release_protection.py reads them). Built by release_rows() from each
    model's declaration, meta.privacy.release.

    dbt resolves ref() while it parses, before the graph exists, so the candidates
    models are named once more below, for dbt's DAG only; this model fails on a
    published model whose candidates are not listed there.
-#}
-- depends_on: {{ ref('int_segment_profiles_generalized') }}
-- depends_on: {{ ref('int_segment_cells_suppressed') }}
-- depends_on: {{ ref('int_campaign_cells_suppressed') }}
-- depends_on: {{ ref('int_cohort_retention_suppressed') }}
-- depends_on: {{ ref('int_lifetime_value_cells_suppressed') }}
-- depends_on: {{ ref('int_contextual_cells_suppressed') }}
-- depends_on: {{ ref('segment_definitions') }}
{%- set published = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
        if node.resource_type == 'model' and published_privacy(node).published -%}
        {%- set release = (node.config.meta.get('privacy') or {}).get('release') or {} -%}
        {%- set candidates_id = 'model.' ~ project_name ~ '.'
            ~ (release.get('candidates') or '') -%}
        {%- if candidates_id not in model.depends_on.nodes -%}
            {{ exceptions.raise_compiler_error(
                "int_release_rows: " ~ node.name ~ " is published, but its candidates model ('"
                ~ (release.get('candidates') or 'none declared') ~ "') is not read here; declare "
                ~ "meta.privacy.release.candidates and add a `-- depends_on:` line with its ref "
                ~ "at the top of this model") }}
        {%- endif -%}
        {%- do published.append(node) -%}
    {%- endfor -%}
{%- endif %}

with

rows_unioned as (
    {%- for node in published %}
    {{ release_rows(node) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as string) as table_name,
        cast(null as string) as row_id,
        cast(null as boolean) as is_linear,
        cast(null as bigint) as weight,
        cast(null as string) as primary_reason,
        cast(null as string) as counts,
        cast(null as string) as magnitudes
    where false
    {%- endfor %}
),

final as (
    select
        rows_unioned.table_name,
        rows_unioned.row_id,
        rows_unioned.is_linear,
        rows_unioned.weight,
        rows_unioned.primary_reason,
        rows_unioned.counts,
        rows_unioned.magnitudes
    from rows_unioned
)

select * from final
