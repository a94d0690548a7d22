{#
    Invariant 6: every equivalence class (rows sharing the values of all
    quasi-identifiers) counts at least k distinct subjects. The
    quasi-identifiers and k are the tested model's declaration
    (published_privacy: meta.privacy.quasi_identifiers, meta.privacy.k or
    var segments_k); arguments are for a model that declares nothing (a
    fixture): the privacy post-hook refuses them on a published model.
    Counts `subject_column` when given, else rows (for a table with one
    row per subject and no pseudonym, like a published row-level table).
    A NULL is a value like any other: NULLs in a quasi-identifier form one
    class (GROUP BY semantics), they do not match everything.
    Fails with one row per class size below k: how many classes and
    records have it. Never the quasi-identifier values.
#}
{% test k_anonymity(model, quasi_identifiers=none, k=none, subject_column=none) %}
{%- set declared = published_privacy(tested_node()) -%}
{%- set quasi_identifiers = quasi_identifiers or declared.quasi_identifiers -%}
{%- set k = (k if k is not none else declared.k) | int -%}
{%- if execute and (quasi_identifiers is string or not quasi_identifiers) -%}
    {{ exceptions.raise_compiler_error(
        "k_anonymity on " ~ model ~ ": no quasi-identifiers; declare them as a list in the "
        ~ "model's meta.privacy.quasi_identifiers") }}
{%- endif %}

with

equivalence_classes as (
    select
        {%- if subject_column %}
        count(distinct {{ subject_column }}) as class_size
        {%- else %}
        count(*) as class_size
        {%- endif %}
    from {{ model }}
    group by {{ quasi_identifiers | join(', ') }}
),

validation_errors as (
    select
        class_size,
        count(*) as classes,
        sum(class_size) as records,
        {{ k }} as k
    from equivalence_classes
    where class_size < {{ k }}
    group by class_size
)

select * from validation_errors
{% endtest %}
