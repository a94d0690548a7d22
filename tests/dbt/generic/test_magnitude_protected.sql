{#
    Invariant 8 on a published table: every sum or mean it publishes (not NULL)
    comes from at least the minimum number of contributors (subjects with a value;
    default k) and passes the dominance rule, recomputed from the statistics of its
    candidate row (magnitude_statistics). The magnitudes, the candidates and the
    rule are the model's declaration (meta.privacy.release; the rule defaults to the
    var release_magnitude_rule). A published row is matched to its candidate on the
    declared dimension and population columns (and cell_level where there is one).
    Fails with one row per magnitude column and reason: how many values break it,
    never the values.
#}
{% test magnitude_protected(model) %}
{%- set node = tested_node() -%}
{%- set privacy = (node.config.meta.get('privacy') or {}) if node else {} -%}
{%- set release = privacy.get('release') or {} -%}
{%- set k = published_privacy(node).k if node else var('segments_k') -%}
{%- set rule = release.get('magnitude_rule') or var('release_magnitude_rule') -%}
{%- set candidates = graph.nodes.get('model.' ~ project_name ~ '.' ~ release.get('candidates', ''))
    if execute else none -%}
{%- set join_columns = [] -%}
{%- for count in release.get('counts') or [] -%}
    {%- for column in (count.get('dimensions') or {}).keys() | list
        + ([count.population_key] if count.get('population_key') else []) -%}
        {%- if column not in join_columns -%}{%- do join_columns.append(column) -%}{%- endif -%}
    {%- endfor -%}
{%- endfor -%}
{%- if candidates and 'cell_level' in candidates.columns -%}
    {%- do join_columns.append('cell_level') -%}
{%- endif %}

with

{%- if candidates and release.get('magnitudes') %}

published_joined as (
    select
        candidates.magnitude_statistics,
        {%- for magnitude in release.magnitudes %}
        published.{{ magnitude.column }} is not null as {{ magnitude.column }}__published
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ model }} as published
    inner join {{ api.Relation.create(
        database=candidates.database, schema=candidates.schema, identifier=candidates.alias
    ) }} as candidates
        on
            {%- for column in join_columns %}
            {% if not loop.first %}and {% endif -%}
            published.{{ column }} is not distinct from candidates.{{ column }}
            {%- endfor %}
),

validation_errors as (
    {%- for magnitude in release.magnitudes %}
    {%- set statistics = 'published_joined.magnitude_statistics' %}
    {%- set contributors = magnitude_statistic(statistics, magnitude.measure, 'contributors') %}
    {%- set top1 = magnitude_statistic(statistics, magnitude.measure, 'top1') %}
    {%- set top2 = magnitude_statistic(statistics, magnitude.measure, 'top2') %}
    {%- set total = magnitude_statistic(statistics, magnitude.measure, 'sum') %}
    {%- set magnitude_rule = magnitude.get('rule') or rule %}
    select
        '{{ magnitude.column }}' as magnitude_column,
        case
            when coalesce(cast({{ contributors }} as bigint), 0)
                < {{ magnitude_rule.get('min_contributors', k) | int }}
                then 'fewer contributors than {{ magnitude_rule.get('min_contributors', k) | int }}'
            {%- if magnitude_rule.get('dominance', 'p_percent') == 'nk' %}
            when coalesce(cast({{ top1 }} as double), 0)
                + coalesce(cast({{ top2 }} as double), 0)
                > {{ magnitude_rule.get('k_percent', 85) }} / 100.0
                * cast({{ total }} as double)
                then 'dominated by its two largest contributors'
            {%- else %}
            when cast({{ total }} as double)
                - coalesce(cast({{ top1 }} as double), 0)
                - coalesce(cast({{ top2 }} as double), 0)
                < {{ magnitude_rule.get('p', 10) }} / 100.0
                * coalesce(cast({{ top1 }} as double), 0)
                then 'dominated (p% rule)'
            {%- endif %}
        end as broken_rule,
        count(*) as published_values
    from published_joined
    where published_joined.{{ magnitude.column }}__published
    group by all
    having broken_rule is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

{%- else %}

validation_errors as (
    select
        cast(null as varchar) as magnitude_column,
        cast(null as varchar) as broken_rule,
        cast(null as bigint) as published_values
    where false
)

{%- endif %}

select * from validation_errors
{% endtest %}
