{#
    CTEs that make `records` k-anonymous by climbing generalization
    hierarchies first and suppressing only what remains (full-domain
    generalization over a small lattice, as in Samarati's and LeFevre's
    Incognito; exhaustive, because the lattice is small).

    `records` is a CTE of the calling model with one row per record: the
    `fixed` quasi-identifiers (never generalized, e.g. the segment) and, for
    each hierarchy {name, levels}, one column per level, most detailed first
    (e.g. age_band__detail, age_band__broad). Class sizes count distinct
    values of `subject_column`; with subject_column=none they count rows,
    which is the same and far cheaper when no subject has two records in
    one class (one row per subject, or per subject and fixed
    quasi-identifier, as in both segment tables).
    Above the last level is the implicit top 'any'. NULLs must be mapped
    to an explicit value (e.g. 'unknown') by the caller: a NULL is then a
    value like any other, never a wildcard.

    Every combination of levels is evaluated: an equivalence class (one
    value of every quasi-identifier) is released when it counts at least
    k distinct subjects and, when a sensitive attribute is given, is
    diverse in it as `diversity` demands ({kind, l, c} from
    declared_diversity(), e.g. published_privacy(...).diversity: distinct,
    entropy or recursive (c,l)-diversity; invariant 9). A class that is not
    diverse is suppressed like a class below k, and counts against the
    suppression limit alike, so a skewed class is first generalized into a
    more diverse one where the limit allows. The chosen combination is the
    least generalized one (lowest sum of levels) whose suppressed records
    stay within max_suppressed_share of all records; ties go to fewer
    suppressed records, then to the lower combination id. When none stays
    within the limit, the one with the fewest suppressed records wins.
    Diversity counts records per value, so it needs one record per subject
    in a class: subject_column and sensitive_attribute do not go together.

    Emits (no leading or trailing comma):
      generalization_lattice    one row per combination: combo_id, <name>_level,
                                generalization_height
      generalization_base       records grouped by every column a class is made of
      generalization_values     (with a sensitive attribute) per combination, class and
                                sensitive value: value_records, value_rank
      generalization_measured   (with a sensitive attribute) per combination and class:
                                diversity_measures()
      generalization_classes    per combination and equivalence class: class_size, is_diverse
      generalization_evaluated  per combination: classes, records, suppressed_records, within_limit
      generalization_chosen     the chosen combination (one row)
      records_generalized       every record with <name> = its generalized value, class_size,
                                is_suppressed, suppression_reason (class_below_k,
                                class_not_diverse) and the chosen <name>_level columns
#}
{% macro k_anonymous_generalization(records, fixed, hierarchies, k, max_suppressed_share,
        subject_column=none, sensitive_attribute=none, diversity=none) %}
    {%- if (k | int) < 2 -%}
        {{ exceptions.raise_compiler_error(
            "k_anonymous_generalization(): k must be an integer of at least 2, got " ~ k) }}
    {%- endif -%}
    {%- if not hierarchies -%}
        {{ exceptions.raise_compiler_error(
            "k_anonymous_generalization(): give at least one hierarchy {name, levels}") }}
    {%- endif -%}
    {%- if sensitive_attribute and diversity is none -%}
        {{ exceptions.raise_compiler_error(
            "k_anonymous_generalization(): a sensitive_attribute needs its diversity {kind, l, c} "
            ~ "(published_privacy(<model>).diversity)") }}
    {%- endif -%}
    {%- if sensitive_attribute and subject_column -%}
        {{ exceptions.raise_compiler_error(
            "k_anonymous_generalization(): diversity counts records per sensitive value, so it "
            ~ "needs one record per subject in a class: give subject_column or "
            ~ "sensitive_attribute, not both") }}
    {%- endif -%}
    {%- for hierarchy in hierarchies if not hierarchy.get('levels') -%}
        {{ exceptions.raise_compiler_error(
            "k_anonymous_generalization(): hierarchy '" ~ hierarchy.get('name')
            ~ "' has no levels") }}
    {%- endfor -%}
    {%- set ns = namespace(combos=[[]]) -%}
    {%- for hierarchy in hierarchies -%}
        {%- set extended = [] -%}
        {%- for combo in ns.combos -%}
            {%- for level in range(hierarchy.levels | length + 1) -%}
                {%- do extended.append(combo + [level]) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set ns.combos = extended -%}
    {%- endfor -%}


generalization_lattice as (
    {%- for combo in ns.combos %}
    select
        {{ loop.index }} as combo_id,
        {%- for hierarchy in hierarchies %}
        {{ combo[loop.index0] }} as {{ hierarchy.name }}_level,
        {%- endfor %}
        {{ combo | sum }} as generalization_height
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

{%- set level_columns = [] -%}
{%- for hierarchy in hierarchies -%}
    {%- for level in hierarchy.levels -%}
        {%- do level_columns.append(level) -%}
    {%- endfor -%}
{%- endfor -%}
{%- set base_columns = (fixed | list) + level_columns
    + ([sensitive_attribute] if sensitive_attribute else [])
    + ([subject_column] if subject_column else []) -%}
{%- set class_columns = (fixed | list) + (hierarchies | map(attribute='name') | list) %}

{#- Every record once per combination would be rows x combinations: group the
    records by everything a class can be made of first (far fewer rows), then
    cross that with the lattice and aggregate once. One hash aggregate, which
    DuckDB can spill, instead of a union of one aggregate per combination. #}
generalization_base as (
    select
        {{ base_columns | join(',\n        ') }},
        count(*) as record_count
    from {{ records }}
    group by all
),

{#- The columns of a class under each combination: its id, the fixed quasi-identifiers, and
    each hierarchy at the combination's level. #}
{%- set generalized_class_columns %}
        generalization_lattice.combo_id,
        {%- for column in fixed %}
        generalization_base.{{ column }},
        {%- endfor %}
        {%- for hierarchy in hierarchies %}
        case generalization_lattice.{{ hierarchy.name }}_level
            {%- for level in hierarchy.levels %}
            when {{ loop.index0 }} then generalization_base.{{ level }}
            {%- endfor %}
            else 'any'
        end as {{ hierarchy.name }},
        {%- endfor %}
{%- endset %}

{%- if sensitive_attribute %}

generalization_values as (
    select
        {{- generalized_class_columns }}
        generalization_base.{{ sensitive_attribute }},
        sum(generalization_base.record_count) as value_records
    from generalization_base
    cross join generalization_lattice
    group by all
),

generalization_measured as (
    select
        combo_id,
        {%- for column in class_columns %}
        {{ column }},
        {%- endfor %}
        {{ diversity_measures('value_records', 'value_rank', diversity.l) }}
    from (
        select
            generalization_values.*,
            row_number() over (
                partition by combo_id, {{ class_columns | join(', ') }}
                order by value_records desc
            ) as value_rank
        from generalization_values
    ) as values_ranked
    group by all
),

generalization_classes as (
    select
        combo_id,
        {%- for column in class_columns %}
        {{ column }},
        {%- endfor %}
        class_records as class_size,
        {{ diversity_holds(diversity) }} as is_diverse
    from generalization_measured
),
{%- else %}

generalization_classes as (
    select
        {{- generalized_class_columns }}
        {%- if subject_column %}
        count(distinct generalization_base.{{ subject_column }}) as class_size,
        {%- else %}
        sum(generalization_base.record_count) as class_size,
        {%- endif %}
        true as is_diverse
    from generalization_base
    cross join generalization_lattice
    group by all
),
{%- endif %}

generalization_evaluated as (
    select
        combo_id,
        count(*) as classes,
        sum(class_size) as records,
        coalesce(
            sum(class_size) filter (where class_size < {{ k | int }} or not is_diverse),
            0
        ) as suppressed_records,
        coalesce(
            sum(class_size) filter (where class_size < {{ k | int }} or not is_diverse),
            0
        ) <= {{ max_suppressed_share }} * sum(class_size) as within_limit
    from generalization_classes
    group by combo_id
),

generalization_chosen as (
    select
        generalization_lattice.*,
        generalization_evaluated.classes,
        generalization_evaluated.records,
        generalization_evaluated.suppressed_records,
        generalization_evaluated.within_limit
    from generalization_lattice
    inner join generalization_evaluated
        on generalization_lattice.combo_id = generalization_evaluated.combo_id
    {#- Within the limit: the least generalized. None within it (a class no level makes large
        or diverse enough, say): the fewest suppressed, then the least generalized. #}
    order by
        generalization_evaluated.within_limit desc,
        case
            when generalization_evaluated.within_limit
                then generalization_lattice.generalization_height
        end,
        generalization_evaluated.suppressed_records,
        generalization_lattice.generalization_height,
        generalization_lattice.combo_id
    limit 1
),

records_recoded as (
    select
        {{ records }}.*,
        {%- for hierarchy in hierarchies %}
        case generalization_chosen.{{ hierarchy.name }}_level
            {%- for level in hierarchy.levels %}
            when {{ loop.index0 }} then {{ records }}.{{ level }}
            {%- endfor %}
            else 'any'
        end as {{ hierarchy.name }},
        generalization_chosen.{{ hierarchy.name }}_level,
        {%- endfor %}
        generalization_chosen.combo_id as generalization_combo_id
    from {{ records }}
    cross join generalization_chosen
),

records_generalized as (
    select
        records_recoded.*,
        chosen_classes.class_size,
        case
            when chosen_classes.class_size < {{ k | int }} then 'class_below_k'
            when not chosen_classes.is_diverse then 'class_not_diverse'
        end as suppression_reason
    from records_recoded
    inner join generalization_classes as chosen_classes
        on
            records_recoded.generalization_combo_id = chosen_classes.combo_id
            {%- for column in class_columns %}
            and records_recoded.{{ column }} = chosen_classes.{{ column }}
            {%- endfor %}
)
{%- endmacro %}
