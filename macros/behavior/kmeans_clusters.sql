{#
    Lloyd's k-means in SQL, unrolled with Jinja: emits CTEs (to place in a
    model's `with` list, followed by a comma) ending in
      kmeans_assignments (point_id, cluster_id, distance):
    each point's cluster after the last assignment step. A cluster's
    centroid is then the weighted mean of its points (what the caller
    computes from the assignments, e.g. dim_affinity_clusters).
    Input CTEs: `points` (point_id, weight, one column per feature) and
    `initial_centroids` (cluster_id, one column per feature); the caller
    chooses a deterministic initialisation.
    Each iteration assigns every point to its nearest centroid (squared
    Euclidean distance; a tie goes to the lower cluster_id) and moves each
    centroid to the weighted mean of its points; a centroid that lost all
    its points stays where it was. Features should be exact decimals:
    distances and sums are then exact, and centroids are rounded to six
    decimals, so the same data gives the same clusters on every run,
    whatever the thread count or row order. Centroids and assignments are
    materialized CTEs: each step reads the previous one once, instead of
    re-deriving the whole chain.
    `inputs` is the SQL of the model's CTE list that defines `points` and
    `initial_centroids` (without `with`); the Spark implementation needs it,
    DuckDB's ignores it.
#}
{% macro kmeans_clusters(features, iterations, inputs=none) -%}
    {{ return(adapter.dispatch('kmeans_clusters', 'privacy_segmentation')(
        features, iterations, inputs)) }}
{%- endmacro %}

{% macro kmeans_check_arguments(features, iterations) -%}
    {%- if features is string or features | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "kmeans_clusters: `features` must be a non-empty list of column names, got "
            ~ features) }}
    {%- endif -%}
    {%- if iterations is not number or iterations < 1 -%}
        {{ exceptions.raise_compiler_error(
            "kmeans_clusters: `iterations` must be a whole number >= 1, got '" ~ iterations
            ~ "' (var behavior_kmeans_iterations)") }}
    {%- endif -%}
{%- endmacro %}

{% macro default__kmeans_clusters(features, iterations, inputs=none) -%}
    {%- do kmeans_check_arguments(features, iterations) -%}
kmeans_centroids_0 as materialized (
    select
        cast(cluster_id as integer) as cluster_id,
        {%- for feature in features %}
        cast({{ feature }} as decimal(9, 6)) as {{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from initial_centroids
),
{% for step in range(1, iterations + 1) %}
kmeans_distances_{{ step }} as (
    select
        points.point_id,
        points.weight,
        centroids.cluster_id,
        {% for feature in features -%}
        (points.{{ feature }} - centroids.{{ feature }})
        * (points.{{ feature }} - centroids.{{ feature }})
        {{- ' +' if not loop.last }}
        {% endfor -%}
        as distance
    from points
    cross join kmeans_centroids_{{ step - 1 }} as centroids
),

kmeans_assignments_{{ step }} as materialized (
    select
        point_id,
        weight,
        cluster_id,
        distance
    from kmeans_distances_{{ step }}
    qualify row_number() over (partition by point_id order by distance, cluster_id) = 1
),

{%- if step < iterations %}

kmeans_centroids_{{ step }} as materialized (
    select
        previous.cluster_id,
        {%- for feature in features %}
        coalesce(moved.{{ feature }}, previous.{{ feature }})
            as {{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from kmeans_centroids_{{ step - 1 }} as previous
    left join (
        select
            assignments.cluster_id,
            {%- for feature in features %}
            cast(round(sum(assignments.weight * points.{{ feature }}) / sum(assignments.weight), 6)
                as decimal(9, 6)) as {{ feature }}{{ ',' if not loop.last }}
            {%- endfor %}
        from kmeans_assignments_{{ step }} as assignments
        inner join points
            on assignments.point_id = points.point_id
        group by assignments.cluster_id
    ) as moved
        on previous.cluster_id = moved.cluster_id
),
{%- endif %}
{% endfor %}
kmeans_assignments as (
    select
        point_id,
        cluster_id,
        distance
    from kmeans_assignments_{{ iterations }}
)
{%- endmacro %}

{#
    Spark inlines CTEs: the unrolled chain above references each centroid
    step twice (through the distances and as the previous centroid), so the
    plan doubles per iteration. Here every step is a cached temporary view
    (CACHE TABLE, computed eagerly) that the next step reads, made by
    statements the macro runs while the model is rendered, as
    spark__delete_where does; a step's predecessor is dropped once it is
    computed. The CTE it emits reads the last assignments. The arithmetic is
    DuckDB's: exact decimals for distances, the same tie-break (distance,
    then the lower cluster_id), centroids rounded to six decimals from an
    exact decimal mean. Temporary views live in the session only and are
    named after the model, so two models never share one.
#}
{% macro spark__kmeans_clusters(features, iterations, inputs=none) -%}
    {%- do kmeans_check_arguments(features, iterations) -%}
    {%- if inputs is none or inputs | trim == '' -%}
        {{ exceptions.raise_compiler_error(
            "kmeans_clusters: on Spark, pass `inputs`, the SQL of the CTEs that define"
            ~ " points and initial_centroids (each step is a cached table computed from them)") }}
    {%- endif -%}
    {%- set prefix = 'kmeans__' ~ this.identifier ~ '__' -%}
    {%- if execute -%}
        {%- do kmeans_spark_cache(prefix ~ 'points',
            'with ' ~ inputs ~ ' select * from points') -%}
        {%- do kmeans_spark_cache(prefix ~ 'centroids_0',
            'with ' ~ inputs ~ ' select cast(cluster_id as integer) as cluster_id'
            ~ kmeans_spark_columns(features, 'cast(', ' as decimal(9, 6)) as ')
            ~ ' from initial_centroids') -%}
        {%- for step in range(1, iterations + 1) -%}
            {%- set previous = prefix ~ 'centroids_' ~ (step - 1) -%}
            {%- set assignments -%}
                select point_id, weight, cluster_id, distance
                from (
                    select
                        *,
                        row_number() over (
                            partition by point_id order by distance, cluster_id
                        ) as distance_rank
                    from (
                    select
                        points.point_id,
                        points.weight,
                        centroids.cluster_id,
                        {% for feature in features -%}
                        (points.{{ feature }} - centroids.{{ feature }})
                        * (points.{{ feature }} - centroids.{{ feature }})
                        {{- ' +' if not loop.last }}
                        {% endfor -%}
                        as distance
                    from {{ prefix }}points as points
                    cross join {{ previous }} as centroids
                    ) as distances
                ) as ranked
                where distance_rank = 1
            {%- endset -%}
            {%- do kmeans_spark_cache(prefix ~ 'assignments_' ~ step, assignments) -%}
            {%- if step > 1 -%}
                {%- do kmeans_spark_drop(prefix ~ 'assignments_' ~ (step - 1)) -%}
            {%- endif -%}
            {%- if step < iterations -%}
                {%- set centroids -%}
                    select
                        previous.cluster_id,
                        {%- for feature in features %}
                        coalesce(moved.{{ feature }}, previous.{{ feature }})
                            as {{ feature }}{{ ',' if not loop.last }}
                        {%- endfor %}
                    from {{ previous }} as previous
                    left join (
                        select
                            assignments.cluster_id,
                            {%- for feature in features %}
                            cast(round(
                                cast(sum(assignments.weight * points.{{ feature }}) as decimal(20, 2))
                                / cast(sum(assignments.weight) as decimal(18, 0)),
                                6) as decimal(9, 6)) as {{ feature }}{{ ',' if not loop.last }}
                            {%- endfor %}
                        from {{ prefix }}assignments_{{ step }} as assignments
                        inner join {{ prefix }}points as points
                            on assignments.point_id = points.point_id
                        group by assignments.cluster_id
                    ) as moved
                        on previous.cluster_id = moved.cluster_id
                {%- endset -%}
                {%- do kmeans_spark_cache(prefix ~ 'centroids_' ~ step, centroids) -%}
            {%- endif -%}
            {%- do kmeans_spark_drop(previous) -%}
        {%- endfor -%}
    {%- endif -%}
kmeans_assignments as (
    select
        point_id,
        cluster_id,
        distance
    from {{ prefix }}assignments_{{ iterations }}
)
{%- endmacro %}

{# ", <before><feature><after><feature>" for each feature (spark__kmeans_clusters). #}
{% macro kmeans_spark_columns(features, before, after) -%}
    {%- for feature in features %}, {{ before }}{{ feature }}{{ after }}{{ feature }}{% endfor -%}
{%- endmacro %}

{# Replaces the cached temporary view `name` by `sql`, computed now (spark__kmeans_clusters). #}
{% macro kmeans_spark_cache(name, sql) -%}
    {%- do kmeans_spark_drop(name) -%}
    {%- call statement('kmeans_cache') -%}
        cache table {{ name }} as {{ sql }}
    {%- endcall -%}
{%- endmacro %}

{# Uncaches and drops the temporary view `name` if it exists (spark__kmeans_clusters). #}
{% macro kmeans_spark_drop(name) -%}
    {%- call statement('kmeans_uncache') -%}
        uncache table if exists {{ name }}
    {%- endcall -%}
    {%- call statement('kmeans_drop') -%}
        drop view if exists {{ name }}
    {%- endcall -%}
{%- endmacro %}
