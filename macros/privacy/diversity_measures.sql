{#
    Select expressions that measure a sensitive attribute within one
    equivalence class, aggregating a relation with one row per class and
    sensitive value (NULL being a value like any other): `count_column`
    holds the records with that value, `rank_column` the value's rank in
    its class by that count, most frequent first (row_number(); ties in
    any order give the same measures). Group by the class.
    - class_records        records of the class
    - sensitive_values     distinct values
    - top_value_records    records of the most frequent value (r1)
    - sensitive_entropy    entropy of the value shares, natural log:
                           ln(n) - sum(r * ln(r)) / n
    - tail_records         records outside the l-1 most frequent values
                           (r_l + ... + r_m)
    diversity_holds() turns them into the declared rule. Counts only: no
    value of the attribute is selected.
#}
{% macro diversity_measures(count_column, rank_column, l) %}
    sum({{ count_column }}) as class_records,
    count(*) as sensitive_values,
    max({{ count_column }}) as top_value_records,
    ln(cast(sum({{ count_column }}) as double))
        - sum({{ count_column }} * ln(cast({{ count_column }} as double)))
        / cast(sum({{ count_column }}) as double) as sensitive_entropy,
    coalesce(sum({{ count_column }}) filter (where {{ rank_column }} >= {{ l | int }}), 0)
        as tail_records
{%- endmacro %}
