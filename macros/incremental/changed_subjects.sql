{#
    Select of the subjects (`subject_column`) whose rows differ between
    `current` and `loaded`, two selects of the same `columns`: a row in one
    and not in the other, either way (EXCEPT, by value). A model whose rows
    of a subject are a function of that subject's upstream rows alone
    (int_consent_intervals: a subject's decisions ordered per purpose)
    recomputes exactly these subjects on an incremental run: new or late
    rows, rows replaced by a duplicate's winner, rows purged upstream
    (retention, erasure). Nothing is hashed: both sides hold pseudonyms.
#}
{% macro changed_subjects(current, loaded, columns, subject_column='customer_key') -%}
    {%- set column_list = columns | join(', ') -%}
    select differing.{{ subject_column }}
    from (
        (
            select {{ column_list }} from {{ current }}
            except
            select {{ column_list }} from {{ loaded }}
        )
        union all
        (
            select {{ column_list }} from {{ loaded }}
            except
            select {{ column_list }} from {{ current }}
        )
    ) as differing
{%- endmacro %}
