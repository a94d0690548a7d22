{#-
    One row per candidate row of every published model (measure NULL), and one per
    magnitude of a released row that is withheld (measure set): whether it is
    withheld and why. Decided for the whole release at once by the engine behind the
    function release_protection() (plugins/release_protection.py, registered by the
    dbt plugin), over the document assembled here: the candidate rows
    (int_release_rows), the hierarchies of their dimensions
    (int_release_hierarchies) and the containment of populations
    (int_release_populations).

    Reasons: the row's own primary reason (class_below_k, cell_below_k, ...);
    'secondary' when the attacker model (every published table at once, the
    hierarchies and containments known to them) could otherwise narrow a withheld
    cell below k, withholding the released row that pins it at the least loss; for
    magnitudes 'magnitude_few_contributors', 'magnitude_dominated' (p% rule or
    (n,k)-dominance) and 'magnitude_secondary'. The published models publish only
    what this model releases. k of the release: the largest k a published model
    declares.
-#}
{%- set release_k = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and published_privacy(node).published -%}
        {%- do release_k.append(published_privacy(node).k) -%}
    {%- endfor -%}
{%- endif -%}
{%- set k = (release_k | max) if release_k else var('segments_k') -%}
{%- set magnitude_rule = var('release_magnitude_rule') -%}

with

release_rows as (
    select
        table_name,
        row_id,
        is_linear,
        weight,
        primary_reason,
        counts,
        magnitudes
    from {{ ref('int_release_rows') }}
),

hierarchies as (
    select
        dimension,
        value_path
    from {{ ref('int_release_hierarchies') }}
),

populations as (
    select
        population,
        containers
    from {{ ref('int_release_populations') }}
),

hierarchy_paths as (
    select
        hierarchies.dimension,
        to_json(list(hierarchies.value_path order by hierarchies.value_path)) as paths
    from hierarchies
    group by hierarchies.dimension
),

document_assembled as (
    select
        json_object(
            'k', {{ k | int }},
            'magnitude_rule', cast('{{ tojson(magnitude_rule) }}' as json),
            'hierarchies', (
                select json_group_object(hierarchy_paths.dimension, hierarchy_paths.paths)
                from hierarchy_paths
            ),
            'populations', (
                select
                    to_json(list(
                        json_object(
                            'name', populations.population,
                            'within', cast(populations.containers as json)
                        )
                        order by populations.population
                    ))
                from populations
            ),
            'rows', (
                select
                    to_json(list(
                        json_object(
                            'id', release_rows.row_id,
                            'table', release_rows.table_name,
                            'weight', release_rows.weight,
                            'linear', release_rows.is_linear,
                            'primary', release_rows.primary_reason,
                            'counts', cast(release_rows.counts as json),
                            'magnitudes', cast(release_rows.magnitudes as json)
                        )
                        order by release_rows.row_id
                    ))
                from release_rows
            )
        ) as release_document
),

{#- Materialized: the engine runs once, however often its result is read below. #}

decided as {{ materialized_cte() }} (
    select cast(release_protection(cast(document_assembled.release_document as string)) as json)
        as decisions
    from document_assembled
),

rows_decided as (
    select
        unnest(
            from_json(
                decided.decisions -> 'rows',
                '[{"id": "VARCHAR", "withheld": "BOOLEAN", "reason": "VARCHAR"}]'
            )
        ) as decision
    from decided
),

magnitudes_decided as (
    select
        unnest(
            from_json(
                decided.decisions -> 'magnitudes',
                '[{"id": "VARCHAR", "measure": "VARCHAR", "reason": "VARCHAR"}]'
            )
        ) as decision
    from decided
),

final as (
    select
        release_rows.table_name,
        release_rows.row_id,
        cast(null as string) as measure,
        rows_decided.decision.withheld as is_withheld,
        rows_decided.decision.reason,
        release_rows.weight
    from rows_decided
    inner join release_rows
        on rows_decided.decision.id = release_rows.row_id
    union all
    select
        release_rows.table_name,
        release_rows.row_id,
        magnitudes_decided.decision.measure,
        true as is_withheld,
        magnitudes_decided.decision.reason,
        release_rows.weight
    from magnitudes_decided
    inner join release_rows
        on magnitudes_decided.decision.id = release_rows.row_id
)

select * from final
