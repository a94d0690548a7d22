{#
    Product affinity of each consenting buyer: spend share per category over
    the trailing var behavior_window_days, and a k-means cluster over those
    share vectors (see the affinity_clusters docs block).
#}
{%- set categories = var('behavior_affinity_categories') -%}
{%- set k = var('behavior_kmeans_k') -%}
{%- set features = [] -%}
{%- for category in categories + ['other'] -%}
    {%- do features.append(category ~ '_spend_share') -%}
{%- endfor -%}
{%- if k is not number or k < 2 or k > features | length -%}
    {{ exceptions.raise_compiler_error(
        "var 'behavior_kmeans_k' must be a whole number from 2 to " ~ (features | length)
        ~ " (the mixed cluster plus one per category of behavior_affinity_categories), got '"
        ~ k ~ "'") }}
{%- endif -%}

{#- The CTEs k-means reads (points, initial_centroids), kept as text too:
    on Spark, kmeans_clusters computes each iteration from them as a table. #}
{%- set kmeans_inputs -%}
order_items as (
    select
        customer_key,
        category,
        line_value_eur
    from {{ ref('fct_order_items') }}
    where
        {{ in_behavior_window('ordered_date') }}
        and order_status in (
            {{ "'" ~ (var('behavior_purchase_statuses') | join("', '")) ~ "'" }}
        )
),

spend_by_customer as (
    select
        customer_key,
        sum(line_value_eur) as window_spend_eur,
        {%- for category in categories %}
        sum(case when category = '{{ category }}' then line_value_eur else 0 end)
            as {{ category }}_spend,
        {%- endfor %}
        sum(
            case
                when category not in ({{ "'" ~ (categories | join("', '")) ~ "'" }})
                    then line_value_eur
                else 0
            end
        ) as other_spend
    from order_items
    group by customer_key
    having sum(line_value_eur) > 0
),

{# Shares rounded to two decimals: exact decimals make the clustering
    deterministic, and buyers with the same rounded profile are clustered
    once, as one weighted point. -#}
shares_by_customer as (
    select
        customer_key,
        window_spend_eur,
        {%- for category in categories + ['other'] %}
        cast({{ rounded_quotient(category ~ '_spend', 'window_spend_eur', 2) }} as decimal(3, 2))
            as {{ category }}_spend_share{{ ',' if not loop.last }}
        {%- endfor %}
    from spend_by_customer
),

points as {{ materialized_cte() }} (
    select
        row_number() over (order by {{ features | join(', ') }}) as point_id,
        count(*) as weight,
        {{ features | join(',\n        ') }}
    from shares_by_customer
    group by {{ features | join(', ') }}
),

categories_by_spend as (
    {%- for category in categories + ['other'] %}
    select
        '{{ category }}_spend_share' as feature,
        sum({{ category }}_spend) as spend
    from spend_by_customer
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

{# Deterministic start: cluster 1 is the buyers' mean profile ("mixed"),
    clusters 2..k are single-category profiles of the k-1 categories with
    the most spend (ties by name). -#}
initial_centroids as (
    select
        1 as cluster_id,
        {%- for feature in features %}
        {{ kmeans_mean('sum(weight * ' ~ feature ~ ')', 'sum(weight)') }}
            as {{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from points
    union all
    select
        cluster_id,
        {%- for feature in features %}
        case when feature = '{{ feature }}' then 1 else 0 end
            as {{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            feature,
            1 + row_number() over (order by spend desc, feature asc) as cluster_id
        from categories_by_spend
    ) as ranked
    where cluster_id <= {{ k }}
)
{%- endset %}

with

{{ kmeans_inputs }},

{{ kmeans_clusters(features, var('behavior_kmeans_iterations'), kmeans_inputs) }},

final as (
    select
        shares_by_customer.customer_key,
        cast(shares_by_customer.window_spend_eur as decimal(38, 2)) as window_spend_eur,
        {%- for feature in features %}
        shares_by_customer.{{ feature }},
        {%- endfor %}
        {#- the first category of the var's list wins a tie #}
        case greatest(
            {%- for feature in features[:-1] %}
            shares_by_customer.{{ feature }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
            {%- for category in categories %}
            when shares_by_customer.{{ category }}_spend_share then '{{ category }}'
            {%- endfor %}
        end as top_category,
        greatest(
            {%- for feature in features[:-1] %}
            shares_by_customer.{{ feature }}{{ ',' if not loop.last }}
            {%- endfor %}
        ) as top_category_share,
        kmeans_assignments.cluster_id as affinity_cluster_id
    from shares_by_customer
    inner join points
        on
            {%- for feature in features %}
            shares_by_customer.{{ feature }} = points.{{ feature }}{{ ' and' if not loop.last }}
            {%- endfor %}
    inner join kmeans_assignments
        on points.point_id = kmeans_assignments.point_id
)

select * from final
