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
        {{ release_document_array('hierarchies.value_path', 'hierarchies.value_path') }} as paths
    from hierarchies
    group by hierarchies.dimension
),

{#- The document's members read from the CTEs above, one scalar subquery each. #}
{%- set hierarchies_member -%}
(
    select {{ release_document_map('hierarchy_paths.dimension', 'hierarchy_paths.paths') }}
    from hierarchy_paths
)
{%- endset -%}
{%- set populations_member -%}
(
    select
        {{ release_document_array(
            release_document_object(
                [['name', 'populations.population']],
                [['within', 'populations.containers']]
            ),
            'populations.population'
        ) }}
    from populations
)
{%- endset -%}
{%- set rows_member -%}
(
    select
        {{ release_document_array(
            release_document_object(
                [
                    ['id', 'release_rows.row_id'],
                    ['table', 'release_rows.table_name'],
                    ['weight', 'release_rows.weight'],
                    ['linear', 'release_rows.is_linear'],
                    ['primary', 'release_rows.primary_reason'],
                ],
                [
                    ['counts', 'release_rows.counts'],
                    ['magnitudes', 'release_rows.magnitudes'],
                ]
            ),
            'release_rows.row_id'
        ) }}
    from release_rows
)
{%- endset %}

document_assembled as (
    select
        {{ release_document_object(
            [
                ['k', k | int | string],
                ['hierarchies', hierarchies_member],
                ['populations', populations_member],
                ['rows', rows_member],
            ],
            [['magnitude_rule', "'" ~ tojson(magnitude_rule) ~ "'"]]
        ) }} as release_document
),

{#- Materialized: the engine runs once, however often its result is read below. #}

decided as {{ materialized_cte() }} (
    select
        release_protection({{ release_document_text('document_assembled.release_document') }})
            as decisions
    from document_assembled
),

decisions_unnested as (
    select {{ release_decisions_unnested('decided.decisions') }} as decision
    from decided
),

final as (
    select
        release_rows.table_name,
        release_rows.row_id,
        decisions_unnested.decision.measure,
        decisions_unnested.decision.withheld as is_withheld,
        decisions_unnested.decision.reason,
        release_rows.weight
    from decisions_unnested
    inner join release_rows
        on decisions_unnested.decision.id = release_rows.row_id
)

select * from final
