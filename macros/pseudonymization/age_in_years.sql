{#
    Whole years between a birth date and a reference date (the run's as_of),
    counting a birthday only once it has passed.
#}
{% macro age_in_years(birth_date, reference_date) -%}
    {{ return(adapter.dispatch('age_in_years', 'privacy_segmentation')(
        birth_date, reference_date)) }}
{%- endmacro %}

{% macro default__age_in_years(birth_date, reference_date) -%}
    (extract(year from {{ reference_date }}) - extract(year from {{ birth_date }})
        - case
            when (
                extract(month from {{ reference_date }}) * 100
                + extract(day from {{ reference_date }})
            ) < (
                extract(month from {{ birth_date }}) * 100
                + extract(day from {{ birth_date }})
            )
                then 1
            else 0
        end)
{%- endmacro %}
