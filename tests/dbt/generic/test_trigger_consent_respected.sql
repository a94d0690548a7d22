{#
    Invariant 3 for the trigger feed: every row's customer is in scope of
    every purpose its trigger lists in `definitions` (consent_purposes,
    space-separated) as of the run. Returns one row per trigger and purpose
    with how many rows and distinct subjects lack the grant, never their keys.
#}
{% test trigger_consent_respected(model, definitions, column_name='customer_key') %}

with

subjects_in_scope as (
    select
        customer_key,
        consent_purpose
    from {{ ref('int_consented_subjects') }}
),

trigger_purposes as (
    select
        trigger_type,
        {{ split_rows('trim(consent_purposes)', ' ') }} as consent_purpose
    from {{ definitions }}
),

tested as (
    select * from {{ model }}
),

rows_tested as (
    select
        tested.{{ column_name }} as subject,
        tested.trigger_type,
        trigger_purposes.consent_purpose
    from tested
    left join trigger_purposes
        on tested.trigger_type = trigger_purposes.trigger_type
    where tested.{{ column_name }} is not null
),

rows_without_grant as (
    select
        rows_tested.subject,
        rows_tested.trigger_type,
        coalesce(rows_tested.consent_purpose, '(trigger not defined)') as consent_purpose
    from rows_tested
    left join subjects_in_scope
        on
            rows_tested.subject = subjects_in_scope.customer_key
            and rows_tested.consent_purpose = subjects_in_scope.consent_purpose
    where
        subjects_in_scope.customer_key is null
        and coalesce(rows_tested.consent_purpose, '(none)') <> ''
),

validation_errors as (
    select
        trigger_type,
        consent_purpose,
        count(*) as rows_without_grant,
        count(distinct subject) as subjects_without_grant
    from rows_without_grant
    group by trigger_type, consent_purpose
)

select * from validation_errors
{% endtest %}
