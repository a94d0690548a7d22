{#
    The validated segment rules, as a list of {priority, segment_name, sql}
    ordered by priority, for a model to splice (fct_segment_membership).

    Each rule of the seed is parsed with sqlglot by the DuckDB functions
    segment_rule_problems / segment_rule_sql, which the dbt-duckdb plugin
    registers (plugins/segment_rules.py): only the behavioural columns of
    `behavior_model` (columns whose meta.privacy.classification is
    behavioral, aggregate or non_personal: never the pseudonym), literals,
    comparison, boolean and arithmetic operators and a few numeric
    functions pass. Any other construct fails the model with one line per
    problem naming the segment and the offending token. What is spliced is
    the SQL regenerated from the checked syntax tree, never the seed text.
    Returns [] while dbt parses (nothing is executed then).

    Two rule types share the seed and the validator. A segment whose
    consent_purpose is contextual_advertising is a contextual rule: with
    `contextual=true` only those rows are read, and the only columns
    allowed are the context columns `behavior_model` publishes (its
    meta.privacy.quasi_identifiers but cell_level, e.g.
    rpt_contextual_audiences): never a key, a day or a person's behaviour.
    Without it (the default), only the other rows are read.
#}
{% macro segment_rules(definitions, behavior_model='fct_customer_behavior', contextual=false) %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ behavior_model) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error(
            "segment_rules(): no model named '" ~ behavior_model ~ "' in this project") }}
    {%- endif -%}
    {%- set allowed = [] -%}
    {%- if contextual -%}
        {%- for name in published_privacy(node).quasi_identifiers if name != 'cell_level' -%}
            {%- do allowed.append("'" ~ (name | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
    {%- else -%}
        {%- for column in node.columns.values() -%}
            {%- set classification = (column.meta.get('privacy') or {}).get('classification') -%}
            {%- if classification in ('behavioral', 'aggregate', 'non_personal') -%}
                {%- do allowed.append("'" ~ (column.name | replace("'", "''")) ~ "'") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns_sql = string_array(allowed) -%}
    {%- set checked = run_query(
        "select priority, segment_name, "
        ~ "segment_rule_problems(rule, " ~ columns_sql ~ ") as problems, "
        ~ "segment_rule_sql(rule, " ~ columns_sql ~ ") as rule_sql "
        ~ "from " ~ definitions
        ~ " where (coalesce(consent_purpose, '') = 'contextual_advertising') = "
        ~ (contextual | string | lower) ~ " order by priority, segment_name") -%}
    {%- set problems = [] -%}
    {%- set rules = [] -%}
    {%- set seen = [] -%}
    {%- for row in checked.rows -%}
        {%- set name = row['segment_name'] or '(no name)' -%}
        {%- if row['priority'] is none -%}
            {%- do problems.append("segment '" ~ name ~ "': priority is empty") -%}
        {%- elif row['priority'] in seen -%}
            {%- do problems.append("segment '" ~ name ~ "': priority " ~ row['priority']
                ~ " is used by another segment; priorities must be unique") -%}
        {%- else -%}
            {%- do seen.append(row['priority']) -%}
        {%- endif -%}
        {%- if row['problems'] -%}
            {%- for problem in row['problems'].split('\n') -%}
                {%- do problems.append("segment '" ~ name ~ "': " ~ problem) -%}
            {%- endfor -%}
        {%- elif row['priority'] is not none -%}
            {%- do rules.append({'priority': row['priority'] | int, 'segment_name': name,
                'sql': row['rule_sql']}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Invalid segment definitions in " ~ definitions
            ~ " (seeds/segments/segment_definitions.csv):\n  - "
            ~ (problems | join("\n  - "))
            ~ "\nA rule is one condition over these columns of " ~ behavior_model ~ ": "
            ~ (allowed | join(', ') | replace("'", "")) ~ "; with literals, = <> < <= > >=, "
            ~ "and/or/not, + - * /, in (literals), between, is [not] null and the functions "
            ~ "abs, least, greatest, coalesce, round, floor, ceil. No subqueries, other "
            ~ "functions, ';' or comments.") }}
    {%- endif -%}
    {{ return(rules) }}
{% endmacro %}
