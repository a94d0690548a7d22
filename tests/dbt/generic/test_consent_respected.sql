{#
    Invariant 3: every subject in a consent-filtered model is in scope of
    `purpose` as of the run (int_consented_subjects). With `purpose_column`
    instead, each row is checked against the purpose named in that column
    of the row (e.g. a segment's required purpose). Returns one row per
    purpose with how many rows and distinct subjects lack the grant, never
    their keys.
#}
{% test consent_respected(model, purpose=none, column_name='customer_key', purpose_column=none) %}
{%- if (purpose is none) == (purpose_column is none) -%}
    {{ exceptions.raise_compiler_error(
        "consent_respected on " ~ model ~ ": give exactly one of `purpose` (one purpose for "
        ~ "every row) or `purpose_column` (the column naming each row's purpose)") }}
{%- endif %}

with

subjects_in_scope as (
    select
        customer_key,
        consent_purpose
    from {{ ref('int_consented_subjects') }}
),

{#- An import CTE, not `{{ model }} as tested`: with a `where` config dbt renders the
    model as an aliased subquery, which cannot take a second alias. #}
tested as (
    select * from {{ model }}
),

rows_tested as (
    select
        tested.{{ column_name }} as subject,
        {%- if purpose_column %}
        tested.{{ purpose_column }} as consent_purpose
        {%- else %}
        '{{ purpose }}' as consent_purpose
        {%- endif %}
    from tested
    where tested.{{ column_name }} is not null
),

rows_without_grant as (
    select
        rows_tested.subject,
        rows_tested.consent_purpose
    from rows_tested
    left join subjects_in_scope
        on
            rows_tested.subject = subjects_in_scope.customer_key
            and rows_tested.consent_purpose = subjects_in_scope.consent_purpose
    where subjects_in_scope.customer_key is null
),

validation_errors as (
    select
        consent_purpose,
        count(*) as rows_without_grant,
        count(distinct subject) as subjects_without_grant
    from rows_without_grant
    group by consent_purpose
)

select * from validation_errors
{% endtest %}
