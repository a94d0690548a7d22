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
{%- set declared = published_privacy(tested_node()) -%}
{%- set column_name = column_name or declared.sensitive_attribute -%}
{%- set quasi_identifiers = quasi_identifiers or declared.quasi_identifiers -%}
{%- set l = (l if l is not none else declared.l) | int -%}
{%- if execute and not column_name -%}
    {{ exceptions.raise_compiler_error(
        "l_diversity on " ~ model ~ ": no sensitive attribute; declare it in the model's "
        ~ "meta.privacy.sensitive_attribute") }}
{%- endif -%}
{%- if execute and (quasi_identifiers is string or not quasi_identifiers) -%}
    {{ exceptions.raise_compiler_error(
        "l_diversity on " ~ model ~ ": no quasi-identifiers; declare them as a list in the "
        ~ "model's meta.privacy.quasi_identifiers") }}
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
