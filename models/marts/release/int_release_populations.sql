{#-
    One row per population of the release that is contained in another, with its
    containers (JSON, the `within` of the release document): every member of an
    overlapping segment (not exclusive) who also belongs to a whole other segment,
    or to the buyers, shows up in that container's counts, so the container minus
    the segment is a published remainder the release must keep at 0 or at least k.
    Found in the data, not in the rules: the attacker is assumed to know every
    containment that holds (all a rule implication can give them, and more).
    Exclusive segments are cells of the buyers (analytics_buyers, dimension
    primary_segment); populations declared by the published models themselves
    (campaign recipients, buyers active in a month) carry their container in their
    declaration.
-#}

with

memberships as (
    select
        customer_key,
        segment_name,
        is_primary
    from {{ ref('fct_segment_membership') }}
),

segment_definitions as (
    select
        segment_name,
        is_exclusive
    from {{ ref('segment_definitions') }}
),

customer_behavior as (
    select
        customer_key,
        first_purchase_cohort_month
    from {{ ref('fct_customer_behavior') }}
),

{#- An exclusive segment counts its primary members (int_segment_cells_suppressed). #}

members_counted as (
    select
        memberships.customer_key,
        memberships.segment_name,
        segment_definitions.is_exclusive
    from memberships
    inner join segment_definitions
        on memberships.segment_name = segment_definitions.segment_name
    where not segment_definitions.is_exclusive or memberships.is_primary
),

segment_sizes as (
    select
        members_counted.segment_name,
        count(*) as members,
        count(customer_behavior.first_purchase_cohort_month) as buyers
    from members_counted
    left join customer_behavior
        on members_counted.customer_key = customer_behavior.customer_key
    where not members_counted.is_exclusive
    group by members_counted.segment_name
),

shared_members as (
    select
        inner_members.segment_name as inner_segment,
        outer_members.segment_name as outer_segment,
        outer_members.is_exclusive as outer_is_exclusive,
        count(*) as shared
    from members_counted as inner_members
    inner join members_counted as outer_members
        on
            inner_members.customer_key = outer_members.customer_key
            and inner_members.segment_name <> outer_members.segment_name
    where not inner_members.is_exclusive
    group by all
),

{%- set dimensions = [['age_band', "'age_band'"], ['region', "'region'"]] %}

containers as (
    select
        segment_sizes.segment_name,
        case
            when shared_members.outer_is_exclusive
                then {{ json_object_text([
                    ['population', "'analytics_buyers'"],
                    ['dimensions', dimensions],
                    ['fixed', [['primary_segment', 'shared_members.outer_segment']]],
                ]) }}
            else {{ json_object_text([
                ['population', "'segment:' || shared_members.outer_segment"],
                ['dimensions', dimensions],
            ]) }}
        end as container
    from segment_sizes
    inner join shared_members
        on
            segment_sizes.segment_name = shared_members.inner_segment
            and segment_sizes.members = shared_members.shared
    union all
    select
        segment_sizes.segment_name,
        {{ json_object_text([
            ['population', "'analytics_buyers'"],
            ['dimensions', dimensions],
        ]) }} as container
    from segment_sizes
    where segment_sizes.members = segment_sizes.buyers
),

final as (
    select
        'segment:' || segment_sizes.segment_name as population,
        {{ json_array_text('containers.container') }} as containers
    from segment_sizes
    left join containers
        on segment_sizes.segment_name = containers.segment_name
    group by segment_sizes.segment_name
    union all
    select
        'analytics_buyers' as population,
        '[]' as containers
)

select * from final
