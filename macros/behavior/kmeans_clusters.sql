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
#}
{% macro kmeans_clusters(features, iterations) -%}
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
