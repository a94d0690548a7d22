{#-
    The candidate rows of rpt_contextual_audiences: one row per context (where
    visits came from, landing campaign, device class, daypart, market region)
    with interest_category 'all', and one per context and interest (the product
    category a visit looked at most), with the visits and distinct visitors
    they count, their conversions, the magnitude statistics of the conversion
    rate and the primary reason a row may not be published on its own:
    - a context counting fewer than k visits or fewer than k distinct visitors
      is withheld whole (context_below_k);
    - an interest of a context counting 1 to k-1 visits or visitors is
      withheld (cell_below_k).
    A visitor is the logged-in customer, or for anonymous traffic the visit
    itself (nothing links two anonymous visits). What else is withheld so that
    no withheld row can be recovered from the context's total is decided for
    the whole release (int_release_decisions).
-#}
{%- set k = published_privacy('rpt_contextual_audiences').k -%}
{%- set context = [
    'referrer_class', 'landing_campaign', 'device_class', 'daypart', 'market_region',
] -%}

with

sessions as (
    select
        customer_key,
        session_key,
        referrer_class,
        landing_campaign,
        device_class,
        daypart,
        market_region,
        interest_category,
        is_converted
    from {{ ref('int_web_sessions_contextualized') }}
),

sessions_counted as (
    select
        {%- for column in context %}
        sessions.{{ column }},
        {%- endfor %}
        sessions.interest_category,
        sessions.session_key,
        coalesce(sessions.customer_key, sessions.session_key) as visitor_key,
        case when sessions.is_converted then 1 else 0 end as converted
    from sessions
),

cells_aggregated as (
    select
        {%- for column in context %}
        sessions_counted.{{ column }},
        {%- endfor %}
        sessions_counted.interest_category,
        'cell' as cell_level,
        count(distinct sessions_counted.session_key) as session_count,
        count(distinct sessions_counted.visitor_key) as visitor_count,
        sum(sessions_counted.converted) as converted_count,
        {{ magnitude_statistics({'converted': 'sessions_counted.converted'}) }}
            as magnitude_statistics
    from sessions_counted
    group by all
),

context_totals as (
    select
        {%- for column in context %}
        sessions_counted.{{ column }},
        {%- endfor %}
        'all' as interest_category,
        'context_total' as cell_level,
        count(distinct sessions_counted.session_key) as session_count,
        count(distinct sessions_counted.visitor_key) as visitor_count,
        sum(sessions_counted.converted) as converted_count,
        {{ magnitude_statistics({'converted': 'sessions_counted.converted'}) }}
            as magnitude_statistics,
        least(
            count(distinct sessions_counted.session_key),
            count(distinct sessions_counted.visitor_key)
        ) as subject_floor
    from sessions_counted
    group by all
),

{{ small_cell_suppression(
    cells='cells_aggregated',
    totals='context_totals',
    group_by=context,
    count_column='session_count',
    k=k,
    primary_suppressed='least(session_count, visitor_count) between 1 and ' ~ (k - 1),
    group_below_k_reason='context_below_k',
    total_count_column='subject_floor',
) }},

{{ suppressed_rows_unioned(
    cells='cells_aggregated_suppressed',
    totals='context_totals_suppressed',
    columns=context + [
        'interest_category', 'cell_level', 'session_count', 'visitor_count', 'converted_count',
        'magnitude_statistics',
    ],
) }},

final as (
    select
        {{ release_row_id(
            'rpt_contextual_audiences', context + ['interest_category'], 'rows_unioned'
        ) }} as release_row_id,
        {{ release_row_id('context', context, 'rows_unioned') }} as context_name,
        {%- for column in context %}
        rows_unioned.{{ column }},
        {%- endfor %}
        rows_unioned.interest_category,
        rows_unioned.cell_level,
        cast(rows_unioned.session_count as integer) as session_count,
        cast(rows_unioned.visitor_count as integer) as visitor_count,
        cast(rows_unioned.converted_count as integer) as converted_count,
        cast(
            round(rows_unioned.converted_count / rows_unioned.session_count, 3) as decimal(4, 3)
        ) as conversion_rate,
        cast(rows_unioned.magnitude_statistics as string) as magnitude_statistics,
        rows_unioned.is_suppressed,
        rows_unioned.suppression_reason,
        {{ as_of_date() }} as as_of_date
    from rows_unioned
)

select * from final
