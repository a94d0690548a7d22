{#
    Fails for every combination of `columns` that occurs more than once.
    Returns the duplicated combinations and how often each occurs.
#}
{% test unique_combination(model, columns) %}
    {%- if columns is string or columns | length < 2 -%}
        {{ exceptions.raise_compiler_error(
            "unique_combination needs a list of at least two columns, got " ~ columns
            ~ "; for one column use the built-in unique test") }}
    {%- endif %}

with

validation_errors as (
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
)

select * from validation_errors
{% endtest %}
