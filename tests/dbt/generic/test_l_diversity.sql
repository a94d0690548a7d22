{#
    Distinct l-diversity: every equivalence class (rows sharing the values
    of all quasi-identifiers) holds at least l distinct values of the
    sensitive attribute, so that knowing someone's class does not reveal
    that value. NULL is not counted as a value. The sensitive attribute,
    the quasi-identifiers and l are the tested model's declaration
    (published_privacy: meta.privacy.sensitive_attribute,
    quasi_identifiers, meta.privacy.l or var segments_l); arguments are
    for a model that declares nothing (a fixture): the privacy post-hook
    refuses them on a published model.
    Fails with one row per number of distinct values below l: how many
    classes and records have it. Never the values themselves.
#}
{% test l_diversity(model, column_name=none, quasi_identifiers=none, l=none) %}
{%- set settings = privacy_test_settings('l_diversity', model, {
    'sensitive_attribute': column_name, 'quasi_identifiers': quasi_identifiers, 'l': l,
}) %}

with

equivalence_classes as (
    select
        count(distinct {{ settings.sensitive_attribute }}) as sensitive_values,
        count(*) as class_records
    from {{ model }}
    group by {{ settings.quasi_identifiers | join(', ') }}
),

validation_errors as (
    select
        sensitive_values,
        count(*) as classes,
        sum(class_records) as records,
        {{ settings.l | int }} as l
    from equivalence_classes
    where sensitive_values < {{ settings.l | int }}
    group by sensitive_values
)

select * from validation_errors
{% endtest %}
