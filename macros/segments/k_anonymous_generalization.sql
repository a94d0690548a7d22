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
    k distinct subjects and, when a sensitive attribute is given, at least
    l distinct values of it (l-diversity). The chosen combination is the
    least generalized one (lowest sum of levels) whose suppressed records
    stay within max_suppressed_share of all records; ties go to fewer
    suppressed records, then to the lower combination id. When none stays
    within the limit, the one with the fewest suppressed records wins.

    Emits (no leading or trailing comma):
      generalization_lattice    one row per combination: combo_id, <name>_level, generalization_height
      generalization_evaluated  per combination: classes, records, suppressed_records
      generalization_chosen     the chosen combination (one row)
      records_generalized       every record with <name> = its generalized value, class_size,
                                is_suppressed, suppression_reason (class_below_k,
                                class_not_l_diverse) and the chosen <name>_level columns
#}
{% macro k_anonymous_generalization(records, fixed, hierarchies, k, max_suppressed_share,
        subject_column=none, sensitive_attribute=none, l=1) %}
    {%- set subjects = 'count(distinct ' ~ subject_column ~ ')' if subject_column else 'count(*)' -%}
    {%- if (k | int) < 2 -%}
        {{ exceptions.raise_compiler_error(
            "k_anonymous_generalization(): k must be an integer of at least 2, got " ~ k) }}
    {%- endif -%}
    {%- if not hierarchies -%}
        {{ exceptions.raise_compiler_error(
            "k_anonymous_generalization(): give at least one hierarchy {name, levels}") }}
    {%- endif -%}
    {%- for hierarchy in hierarchies if not hierarchy.get('levels') -%}
        {{ exceptions.raise_compiler_error(
            "k_anonymous_generalization(): hierarchy '" ~ hierarchy.get('name') ~ "' has no levels") }}
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
    {%- set released -%}
        {{ subjects }} >= {{ k | int }}
        {%- if sensitive_attribute %} and count(distinct {{ sensitive_attribute }}) >= {{ l | int }}{% endif %}
    {%- endset %}

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

generalization_evaluated as (
    {%- for combo in ns.combos %}
    {%- set group_by = fixed | list -%}
    {%- for position in range(hierarchies | length)
        if combo[position] < hierarchies[position].levels | length -%}
        {%- do group_by.append(hierarchies[position].levels[combo[position]]) -%}
    {%- endfor %}
    select
        {{ loop.index }} as combo_id,
        count(*) as classes,
        sum(classes_of_combo.class_size) as records,
        coalesce(sum(classes_of_combo.class_size) filter (where not classes_of_combo.is_released), 0)
            as suppressed_records
    from (
        select
            {{ subjects }} as class_size,
            {{ released }} as is_released
        from {{ records }}
        {%- if group_by %}
        group by {{ group_by | join(', ') }}
        {%- endif %}
    ) as classes_of_combo
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

generalization_chosen as (
    select
        generalization_lattice.*,
        generalization_evaluated.classes,
        generalization_evaluated.records,
        generalization_evaluated.suppressed_records
    from generalization_lattice
    inner join generalization_evaluated
        on generalization_lattice.combo_id = generalization_evaluated.combo_id
    order by
        generalization_evaluated.suppressed_records
            <= {{ max_suppressed_share }} * generalization_evaluated.records desc,
        generalization_lattice.generalization_height,
        generalization_evaluated.suppressed_records,
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
    {%- set partition = (fixed | list) + (hierarchies | map(attribute='name') | list) %}
    select
        records_recoded.*,
        {{ subjects }} over (partition by {{ partition | join(', ') }}) as class_size,
        {%- if sensitive_attribute %}
        count(distinct records_recoded.{{ sensitive_attribute }})
            over (partition by {{ partition | join(', ') }}) as sensitive_values,
        {%- endif %}
        case
            when {{ subjects }} over (partition by {{ partition | join(', ') }}) < {{ k | int }}
                then 'class_below_k'
            {%- if sensitive_attribute %}
            when count(distinct records_recoded.{{ sensitive_attribute }})
                over (partition by {{ partition | join(', ') }}) < {{ l | int }}
                then 'class_not_l_diverse'
            {%- endif %}
        end as suppression_reason
    from records_recoded
)
{%- endmacro %}
