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
{%- set settings = privacy_test_settings('k_anonymity', model, {
    'quasi_identifiers': quasi_identifiers, 'k': k,
}) %}

with

equivalence_classes as (
    select
        {%- if subject_column %}
        count(distinct {{ subject_column }}) as class_size
        {%- else %}
        count(*) as class_size
        {%- endif %}
    from {{ model }}
    group by {{ settings.quasi_identifiers | join(', ') }}
),

validation_errors as (
    select
        class_size,
        count(*) as classes,
        sum(class_size) as records,
        {{ settings.k | int }} as k
    from equivalence_classes
    where class_size < {{ settings.k | int }}
    group by class_size
)

select * from validation_errors
{% endtest %}
