{#
    One row per affinity cluster: its size, its centroid (the members' mean
    spend share per category), its three strongest categories and a label
    generated from them (see the affinity_clusters docs block).
#}
{%- set categories = var('behavior_affinity_categories') + ['other'] -%}

with

customer_affinity as (
    select
        customer_key,
        affinity_cluster_id,
        {%- for category in categories %}
        {{ category }}_spend_share{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('fct_customer_affinity') }}
),

clusters_averaged as (
    select
        affinity_cluster_id,
        count(distinct customer_key) as member_count,
        {%- for category in categories %}
        cast({{ rounded_average(category ~ '_spend_share', 4) }} as decimal(5, 4))
            as {{ category }}_spend_share{{ ',' if not loop.last }}
        {%- endfor %}
    from customer_affinity
    group by affinity_cluster_id
),

categories_ranked as (
    select
        affinity_cluster_id,
        category,
        spend_share,
        row_number() over (
            partition by affinity_cluster_id order by spend_share desc, category asc
        ) as category_rank
    from (
        {%- for category in categories %}
        select
            affinity_cluster_id,
            '{{ category }}' as category,
            {{ category }}_spend_share as spend_share
        from clusters_averaged
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    ) as shares_long
),

top_categories as (
    select
        affinity_cluster_id,
        max(case when category_rank = 1 then category end) as top_category_1,
        max(case when category_rank = 2 then category end) as top_category_2,
        max(case when category_rank = 3 then category end) as top_category_3,
        max(case when category_rank = 1 then spend_share end) as top_category_1_share,
        max(case when category_rank = 2 then spend_share end) as top_category_2_share
    from categories_ranked
    group by affinity_cluster_id
),

{# A cluster led by one category with at least half of the spend is
    "<category> focused"; otherwise it is "mixed: <first> & <second>". -#}
clusters_labelled as (
    select
        affinity_cluster_id,
        case
            when top_category_1_share >= 0.5 then top_category_1 || ' focused'
            else 'mixed: ' || top_category_1 || ' & ' || top_category_2
        end as base_label
    from top_categories
),

final as (
    select
        clusters_averaged.affinity_cluster_id,
        case
            when count(*) over (partition by clusters_labelled.base_label) > 1
                then clusters_labelled.base_label || ' #' || clusters_averaged.affinity_cluster_id
            else clusters_labelled.base_label
        end as cluster_label,
        clusters_averaged.member_count,
        top_categories.top_category_1,
        top_categories.top_category_2,
        top_categories.top_category_3,
        {%- for category in categories %}
        clusters_averaged.{{ category }}_spend_share{{ ',' if not loop.last }}
        {%- endfor %}
    from clusters_averaged
    inner join top_categories
        on clusters_averaged.affinity_cluster_id = top_categories.affinity_cluster_id
    inner join clusters_labelled
        on clusters_averaged.affinity_cluster_id = clusters_labelled.affinity_cluster_id
)

select * from final
