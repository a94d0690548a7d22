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
{{ kmeans_step_sql(features, 'kmeans_centroids_' ~ (step - 1), step, moved=step < iterations) }},
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
    plan doubles per iteration; temporary views chained step by step are
    re-analysed through every earlier view and double the same way. Here
    each iteration is one query the macro runs while the model is rendered
    (run_query, when `execute`): from `inputs` (the points) and the previous
    centroids, written in as literals, it returns the k new centroids, which
    the next iteration reads as literals again. The CTEs it emits assign the
    points to the last centroids. No plan grows with the iterations, and no
    table is left behind. Centroids are aggregates of spend shares (k rows),
    no subject's value. The arithmetic is DuckDB's (kmeans_step_sql): exact
    decimals for distances, ties to the lower cluster_id, and the means
    rounded to six decimals as DuckDB rounds them (kmeans_mean).
#}
{% macro spark__kmeans_clusters(features, iterations, inputs=none) -%}
    {%- do kmeans_check_arguments(features, iterations) -%}
    {%- if inputs is none or inputs | trim == '' -%}
        {{ exceptions.raise_compiler_error(
            "kmeans_clusters: on Spark, pass `inputs`, the SQL of the CTEs that define"
            ~ " points and initial_centroids (each iteration is a query run from them)") }}
    {%- endif -%}
    {#- a dict, not a variable: a `set` inside a for loop does not outlive the iteration #}
    {%- set state = {'centroids': 'select * from kmeans_centroids_0'} -%}
    {%- if execute -%}
        {%- set start -%}
            with {{ inputs }}
            select
                cast(cluster_id as integer) as cluster_id,
                {%- for feature in features %}
                cast({{ feature }} as decimal(9, 6)) as {{ feature }}{{ ',' if not loop.last }}
                {%- endfor %}
            from initial_centroids
            order by cluster_id
        {%- endset -%}
        {%- do state.update(
            {'centroids': kmeans_centroids_literal(features, run_query(start))}) -%}
        {%- for step in range(1, iterations) -%}
            {%- set moved -%}
                with {{ inputs }},
                kmeans_centroids_previous as ({{ state.centroids }}),
                {{ kmeans_step_sql(features, 'kmeans_centroids_previous', 'step') }}
                select * from kmeans_centroids_step
                order by cluster_id
            {%- endset -%}
            {%- do state.update(
                {'centroids': kmeans_centroids_literal(features, run_query(moved))}) -%}
        {%- endfor -%}
    {%- endif -%}
kmeans_centroids_last as (
    {{ state.centroids }}
),
{{ kmeans_step_sql(features, 'kmeans_centroids_last', 'step', moved=false) }},

kmeans_assignments as (
    select
        point_id,
        cluster_id,
        distance
    from kmeans_assignments_step
)
{%- endmacro %}

{#
    One Lloyd step of kmeans_clusters, as CTEs named by `step` (no trailing
    comma): kmeans_distances_<step>, kmeans_assignments_<step> (each point's
    nearest centroid of the relation `centroids`, a tie to the lower
    cluster_id) and, when `moved`, kmeans_centroids_<step> (each cluster's
    weighted mean of its points rounded to six decimals by kmeans_mean, or
    its centroid if it lost all its points). The assignments and centroids
    are materialized where the engine has the keyword (materialized_cte):
    the next step reads them once instead of re-deriving the chain. DuckDB
    unrolls every step with it; Spark runs it once per iteration.
#}
{% macro kmeans_step_sql(features, centroids, step, moved=true) -%}
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
    cross join {{ centroids }} as centroids
),

kmeans_assignments_{{ step }} as {{ materialized_cte() }} (
    select
        point_id,
        weight,
        cluster_id,
        distance
    from (
        select
            *,
            row_number() over (partition by point_id order by distance, cluster_id) as distance_rank
        from kmeans_distances_{{ step }}
    ) as ranked
    where distance_rank = 1
)
{%- if moved %},

kmeans_centroids_{{ step }} as {{ materialized_cte() }} (
    select
        previous.cluster_id,
        {%- for feature in features %}
        coalesce(moved.{{ feature }}, previous.{{ feature }})
            as {{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ centroids }} as previous
    left join (
        select
            assignments.cluster_id,
            {%- for feature in features %}
            cast({{ kmeans_mean(
                'sum(assignments.weight * points.' ~ feature ~ ')', 'sum(assignments.weight)')
            }} as decimal(9, 6)) as {{ feature }}{{ ',' if not loop.last }}
            {%- endfor %}
        from kmeans_assignments_{{ step }} as assignments
        inner join points
            on assignments.point_id = points.point_id
        group by assignments.cluster_id
    ) as moved
        on previous.cluster_id = moved.cluster_id
)
{%- endif %}
{%- endmacro %}

{#
    The rows of a centroids query result (cluster_id, one decimal(9, 6) per
    feature) as a SELECT of literals, for spark__kmeans_clusters.
#}
{% macro kmeans_centroids_literal(features, table) -%}
    {%- set rows = [] -%}
    {%- for row in table.rows -%}
        {%- set values = ['cast(' ~ row[0] ~ ' as integer)'] -%}
        {%- for feature in features -%}
            {%- set value = row[loop.index] -%}
            {%- do values.append("cast(" ~ ("null" if value is none else "'" ~ value ~ "'")
                ~ " as decimal(9, 6))") -%}
        {%- endfor -%}
        {%- do rows.append('(' ~ values | join(', ') ~ ')') -%}
    {%- endfor -%}
    {%- if rows | length == 0 -%}
        {{ exceptions.raise_compiler_error("kmeans_clusters: no initial centroids") }}
    {%- endif -%}
    select * from values {{ rows | join(', ') }}
        as centroids(cluster_id, {{ features | join(', ') }})
{%- endmacro %}

{#
    A weighted mean rounded to six decimals, the centroids' arithmetic, the
    same number on both engines. DuckDB divides a decimal sum as a double
    and rounds the double's exact value (half away from zero): a mean that
    lies exactly halfway at the seventh decimal, say 5.51 / 32 = 0.1721875,
    may round down, its double being just below. Spark's exact decimal
    division rounds it up, and Spark's round() of a double rounds the
    double's shortest decimal text: both differ from DuckDB on such ties
    (measured: 11 of 115 buyers in another cluster). spark__kmeans_mean
    computes the same double and rounds it as DuckDB does
    (spark_round_like_duckdb).
#}
{% macro kmeans_mean(weighted_sum, weight) -%}
    {{ return(adapter.dispatch('kmeans_mean', 'privacy_segmentation')(weighted_sum, weight)) }}
{%- endmacro %}

{% macro default__kmeans_mean(weighted_sum, weight) -%}
    round({{ weighted_sum }} / {{ weight }}, 6)
{%- endmacro %}

{% macro spark__kmeans_mean(weighted_sum, weight) -%}
    {{ spark_round_like_duckdb(
        'cast(' ~ weighted_sum ~ ' as double) / cast(' ~ weight ~ ' as double)', 6) }}
{%- endmacro %}
