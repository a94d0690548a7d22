{#
    Segment definitions (seed segment_definitions) that the segment models
    and the audience export could misread: a name that is not a plain
    lowercase identifier, or an activation purpose that is not a known
    consent purpose. The rules themselves are checked by segment_rules().
#}
with

definitions as (
    select
        segment_name,
        activation_purposes
    from {{ ref('segment_definitions') }}
),

purposes as (
    select consent_purpose
    from {{ ref('consent_purposes') }}
),

activation_purposes_listed as (
    select
        definitions.segment_name,
        {{ split_rows("trim(coalesce(definitions.activation_purposes, ''))", ' ') }} as purpose
    from definitions
),

validation_errors as (
    select
        definitions.segment_name,
        'name must be lowercase letters, digits and underscores' as problem
    from definitions
    {#- the whole name matches [a-z][a-z0-9_]*, without anchoring on $ (Java's matches
        before a final newline): no other character, and a letter first #}
    where
        {{ text_matches('definitions.segment_name', "'[^a-z0-9_]'") }}
        or not {{ text_matches('definitions.segment_name', "'^[a-z]'") }}

    union all

    select
        activation_purposes_listed.segment_name,
        'unknown activation purpose: ' || activation_purposes_listed.purpose as problem
    from activation_purposes_listed
    where
        activation_purposes_listed.purpose <> ''
        and activation_purposes_listed.purpose not in (
            select purposes.consent_purpose from purposes
        )
)

select * from validation_errors
