{#-
    One row per published table: re-identification risk of what BI can
    read. Prosecutor risk of a record is 1 / the size of its equivalence
    class (the records sharing its quasi-identifier values; for an
    aggregated table, the subjects counted in its cell). The highest is
    1 / the smallest class; the average over records is classes / records.
    For a differentially private table the class sizes are its released
    (noisy) counts.

    The tables are the models marked meta.privacy.published in the graph,
    and all this report knows of each comes from its declaration
    (published_privacy): quasi-identifiers, subject count column, k, l.
    Primary suppression is read from the model's candidates (its
    declaration's meta.privacy.release.candidates, with is_suppressed); their
    <quasi-identifier>_level columns say how far each hierarchy was
    generalized, and when they have a cell_level column, only 'cell' rows
    count suppressed members (a total row counts them again). What the
    release withholds on top, and the magnitudes it withholds, come from
    int_release_decisions.

    dbt resolves ref() while it parses, before it reads any yml and before
    the graph exists, so the depends_on lines below name the published
    models once more, for dbt's DAG only. The two cannot drift apart: this
    model fails on a published model missing below or a listed model that
    is not published, and the privacy post-hook fails a published model
    this report does not read.
-#}
-- depends_on: {{ ref('fct_segment_profiles') }}
-- depends_on: {{ ref('rpt_segment_summary') }}
-- depends_on: {{ ref('rpt_campaign_performance') }}
-- depends_on: {{ ref('rpt_cohort_retention') }}
-- depends_on: {{ ref('rpt_lifetime_value') }}
-- depends_on: {{ ref('rpt_contextual_audiences') }}
-- depends_on: {{ ref('int_release_decisions') }}
{%- set tables = [] -%}
{%- if execute -%}
    {%- set published_ids = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
        if node.resource_type == 'model' and published_privacy(node).published -%}
        {%- do published_ids.append(node.unique_id) -%}
        {%- if node.unique_id not in model.depends_on.nodes -%}
            {{ exceptions.raise_compiler_error(
                "rpt_reidentification_risk: " ~ node.name ~ " is published but not read here; "
                ~ "add a `-- depends_on:` line with ref('" ~ node.name ~ "') at the top of this "
                ~ "model") }}
        {%- endif -%}
        {%- set candidates = ((node.config.meta.get('privacy') or {}).get('release') or {})
            .get('candidates') -%}
        {%- set source = graph.nodes.get('model.' ~ project_name ~ '.' ~ (candidates or '')) -%}
        {%- if source is none or 'is_suppressed' not in source.columns -%}
            {{ exceptions.raise_compiler_error(
                "rpt_reidentification_risk: " ~ node.name ~ " must declare its candidates model "
                ~ "(meta.privacy.release.candidates, with an is_suppressed column), found '"
                ~ (candidates or 'none') ~ "'") }}
        {%- endif -%}
        {%- set declared = published_privacy(node) -%}
        {%- do tables.append({
            'name': node.name,
            'relation': ref(node.name),
            'source': api.Relation.create(
                database=source.database, schema=source.schema, identifier=source.alias),
            'quasi_identifiers': declared.quasi_identifiers,
            'count_column': declared.subject_count_column,
            'k': declared.k,
            'l': declared.l,
            'levels': [],
            'has_total_rows': 'cell_level' in source.columns,
        }) -%}
        {%- for quasi_identifier in declared.quasi_identifiers
            if (quasi_identifier ~ '_level') in source.columns -%}
            {%- do tables[-1].levels.append(quasi_identifier) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set decisions_id = 'model.' ~ project_name ~ '.int_release_decisions' -%}
    {%- for parent_id in model.depends_on.nodes
        if parent_id not in published_ids and parent_id != decisions_id -%}
        {{ exceptions.raise_compiler_error(
            "rpt_reidentification_risk: " ~ parent_id ~ " is named in a depends_on line but is not "
            ~ "published (meta.privacy.published); remove the line") }}
    {%- endfor -%}
{%- endif %}

with

{%- for table in tables %}

{{ table.name }}_classes as (
    {%- if table.count_column %}
    {#- A cell of nobody is published as 0: no class, no risk. #}
    select {{ table.count_column }} as class_size
    from {{ table.relation }}
    where {{ table.count_column }} > 0
    {%- else %}
    select count(*) as class_size
    from {{ table.relation }}
    group by {{ table.quasi_identifiers | join(', ') }}
    {%- endif %}
),

{{ table.name }}_suppression as (
    {#- Row-level: withheld subjects and classes. Aggregated: members of withheld
        cells, and withheld rows (totals and secondary suppression included).
        A table without generalization hierarchies reports 'none'. #}
    select
        {%- if table.count_column %}
        coalesce(sum({{ table.count_column }}) filter (
            where is_suppressed{% if table.has_total_rows %} and cell_level = 'cell'{% endif %}), 0)
            as suppressed_records,
        count(*) filter (where is_suppressed) as suppressed_cells,
        {%- else %}
        count(*) filter (where is_suppressed) as suppressed_records,
        count(distinct {{ dbt.array_construct(table.quasi_identifiers) }})
            filter (where is_suppressed)
            as suppressed_cells,
        {%- endif %}
        {%- for level in table.levels %}
        '{{ level }}=' || cast(max({{ level }}_level) as string)
        {%- if not loop.last %} || ', ' ||{% endif %}
        {%- else %}
        'none'
        {%- endfor %} as generalization
    from {{ table.source }}
),

{{ table.name }}_release as (
    {#- What the release withholds on top (secondary: differencing across every
        published table), and the magnitudes it withholds, from
        int_release_decisions. Records: the members of withheld cells (a total row
        counts them again) or the records of withheld classes. #}
    select
        count(*) filter (
            where release_decisions.measure is null and release_decisions.reason = 'secondary'
        ) as secondary_suppressed_cells,
        coalesce(sum(release_decisions.weight) filter (
            where
                release_decisions.measure is null and release_decisions.reason = 'secondary'
                {%- if table.has_total_rows %}
                and candidate_rows.cell_level = 'cell'
                {%- endif %}
        ), 0) as secondary_suppressed_records,
        count(*) filter (where release_decisions.measure is not null) as withheld_magnitudes
    from {{ ref('int_release_decisions') }} as release_decisions
    left join (
        select distinct
            release_row_id
            {%- if table.has_total_rows %},
            cell_level
            {%- endif %}
        from {{ table.source }}
    ) as candidate_rows
        on release_decisions.row_id = candidate_rows.release_row_id
    where release_decisions.table_name = '{{ table.name }}'
),

{{ table.name }}_risk as (
    select
        '{{ table.name }}' as table_name,
        '{{ 'aggregated' if table.count_column else 'row_level' }}' as table_kind,
        '{{ table.quasi_identifiers | join(", ") }}' as quasi_identifiers,
        {{ table.k }} as k,
        {{ table.l }} as l,
        coalesce(sum(class_size), 0) as records,
        count(*) as equivalence_classes,
        min(class_size) as smallest_class_size,
        coalesce(sum(class_size) filter (where class_size < {{ table.k }}), 0)
            as records_in_classes_below_k
    from {{ table.name }}_classes
),
{%- endfor %}

risks_unioned as (
    {%- for table in tables %}
    select
        {{ table.name }}_risk.*,
        {{ table.name }}_suppression.suppressed_records,
        {{ table.name }}_suppression.suppressed_cells,
        {{ table.name }}_suppression.generalization,
        {{ table.name }}_release.secondary_suppressed_records,
        {{ table.name }}_release.secondary_suppressed_cells,
        {{ table.name }}_release.withheld_magnitudes
    from {{ table.name }}_risk
    cross join {{ table.name }}_suppression
    cross join {{ table.name }}_release
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        risks_unioned.table_name,
        risks_unioned.table_kind,
        risks_unioned.quasi_identifiers,
        cast(risks_unioned.k as integer) as k,
        cast(risks_unioned.l as integer) as l,
        cast(risks_unioned.records as bigint) as records,
        cast(risks_unioned.equivalence_classes as bigint) as equivalence_classes,
        cast(risks_unioned.smallest_class_size as bigint) as smallest_class_size,
        cast({{ rounded_quotient('1.0', 'risks_unioned.smallest_class_size', 4) }}
            as decimal(5, 4)) as max_prosecutor_risk,
        cast({{ rounded_quotient(
            'risks_unioned.equivalence_classes', 'nullif(risks_unioned.records, 0)', 4) }}
            as decimal(5, 4)) as average_prosecutor_risk,
        cast(risks_unioned.records_in_classes_below_k as bigint) as records_in_classes_below_k,
        cast({{ rounded_quotient(
            'risks_unioned.records_in_classes_below_k', 'nullif(risks_unioned.records, 0)', 4) }}
            as decimal(5, 4)) as share_records_below_k,
        cast(risks_unioned.suppressed_records as bigint) as suppressed_records,
        cast(risks_unioned.suppressed_cells as bigint) as suppressed_cells,
        cast(risks_unioned.secondary_suppressed_records as bigint) as secondary_suppressed_records,
        cast(risks_unioned.secondary_suppressed_cells as bigint) as secondary_suppressed_cells,
        cast(risks_unioned.withheld_magnitudes as bigint) as withheld_magnitudes,
        risks_unioned.generalization,
        {{ as_of_date() }} as as_of_date
    from risks_unioned
)

select * from final
