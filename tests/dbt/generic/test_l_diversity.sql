{#
    Distinct l-diversity: every equivalence class (rows sharing the values
    of all `quasi_identifiers`) holds at least l distinct values of the
    sensitive attribute `column_name`, so that knowing someone's class
    does not reveal that value. NULL is not counted as a value.
    Fails with one row per number of distinct values below l: how many
    classes and records have it. Never the values themselves.
#}
{% test l_diversity(model, column_name, quasi_identifiers, l=none) %}
{%- set l = (l if l is not none else var('segments_l')) | int -%}
{%- if quasi_identifiers is string or not quasi_identifiers -%}
    {{ exceptions.raise_compiler_error(
        "l_diversity on " ~ model ~ ": quasi_identifiers must be a non-empty list of columns") }}
{%- endif %}

with

equivalence_classes as (
    select
        count(distinct {{ column_name }}) as sensitive_values,
        count(*) as class_records
    from {{ model }}
    group by {{ quasi_identifiers | join(', ') }}
),

validation_errors as (
    select
        sensitive_values,
        count(*) as classes,
        sum(class_records) as records,
        {{ l }} as l
    from equivalence_classes
    where sensitive_values < {{ l }}
    group by sensitive_values
)

select * from validation_errors
{% endtest %}
