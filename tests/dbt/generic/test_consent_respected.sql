{#
    Invariant 3: every subject in a consent-filtered model is in scope of
    `purpose` as of the run (int_consented_subjects). Returns one row with
    how many rows and distinct subjects lack the grant, never their keys.
#}
{% test consent_respected(model, purpose, column_name='customer_key') %}

with

subjects_in_scope as (
    select customer_key
    from {{ ref('int_consented_subjects') }}
    where consent_purpose = '{{ purpose }}'
),

rows_without_grant as (
    select tested.{{ column_name }}
    from {{ model }} as tested
    where
        tested.{{ column_name }} is not null
        and tested.{{ column_name }} not in (select customer_key from subjects_in_scope)
),

validation_errors as (
    select
        '{{ purpose }}' as consent_purpose,
        count(*) as rows_without_grant,
        count(distinct {{ column_name }}) as subjects_without_grant
    from rows_without_grant
    having count(*) > 0
)

select * from validation_errors
{% endtest %}
