{#
    Validate the seed trigger_definitions before fct_triggered_audience
    reads it: every row must name a known trigger kind with the parameters
    that kind needs, and consent purposes that exist and cover what the kind
    reads (marketing_email always; analytics as well for the kinds that
    track browsing or model a purchase rhythm). Any problem fails the model
    with one line per problem naming the trigger. Nothing of the seed is
    spliced into SQL: the model joins it as data. Returns the number of
    triggers (0 while dbt parses, when nothing is executed).
    In a unit test ref() names the test's fixture rows, not a table this
    query could read: the unit test's own rows are used as given there (the
    build of the model validates the seed).
#}
{% macro trigger_definitions_checked(definitions, purposes) %}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set kinds = trigger_kind_requirements() -%}
    {%- set known_purposes = run_query(
        "select consent_purpose from " ~ purposes).columns[0].values() -%}
    {%- set checked = run_query(
        "select trigger_type, trigger_kind, consent_purposes, days, order_count, window_days, "
        ~ "campaign_objective from " ~ definitions ~ " order by trigger_type") -%}
    {%- set problems = [] -%}
    {%- set seen = [] -%}
    {%- for row in checked.rows -%}
        {%- set name = row['trigger_type'] or '(no name)' -%}
        {%- set say = "trigger '" ~ name ~ "': " -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', name) -%}
            {%- do problems.append(
                say ~ "name must be lowercase letters, digits and underscores") -%}
        {%- elif name in seen -%}
            {%- do problems.append(say ~ "is defined twice; trigger_type must be unique") -%}
        {%- endif -%}
        {%- do seen.append(name) -%}
        {%- set kind = kinds.get(row['trigger_kind']) -%}
        {%- if kind is none -%}
            {%- do problems.append(say ~ "unknown trigger_kind '" ~ row['trigger_kind']
                ~ "'; known kinds: " ~ (kinds.keys() | sort | join(', '))) -%}
        {%- else -%}
            {%- set listed = (row['consent_purposes'] or '').split() -%}
            {%- for purpose in listed if purpose not in known_purposes -%}
                {%- do problems.append(say ~ "unknown consent purpose '" ~ purpose
                    ~ "' (seed consent_purposes)") -%}
            {%- endfor -%}
            {%- for purpose in kind.purposes if purpose not in listed -%}
                {%- do problems.append(say ~ "consent_purposes must include " ~ purpose
                    ~ " (" ~ row['trigger_kind'] ~ " " ~ kind.reads ~ ")") -%}
            {%- endfor -%}
            {%- if row['days'] is none or row['days'] < kind.min_days or row['days'] > 3650 -%}
                {%- do problems.append(say ~ "days must be a whole number from " ~ kind.min_days
                    ~ " to 3650 for " ~ row['trigger_kind'] ~ ", got " ~ row['days']) -%}
            {%- endif -%}
            {%- if kind.min_orders is none and row['order_count'] is not none -%}
                {%- do problems.append(say ~ "order_count must be empty for "
                    ~ row['trigger_kind']) -%}
            {%- elif kind.min_orders is not none and (row['order_count'] is none
                or row['order_count'] < kind.min_orders or row['order_count'] > 1000) -%}
                {%- do problems.append(say ~ "order_count must be a whole number from "
                    ~ kind.min_orders ~ " to 1000 for " ~ row['trigger_kind'] ~ ", got "
                    ~ row['order_count']) -%}
            {%- endif -%}
        {%- endif -%}
        {%- if row['window_days'] is none or row['window_days'] < 1
            or row['window_days'] > 366 -%}
            {%- do problems.append(say ~ "window_days must be a whole number from 1 to 366, got "
                ~ row['window_days']) -%}
        {%- endif -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', row['campaign_objective'] or '') -%}
            {%- do problems.append(say ~ "campaign_objective must be lowercase letters, digits "
                ~ "and underscores (the objective of the campaigns that act on the trigger)") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Invalid trigger definitions in " ~ definitions
            ~ " (seeds/audiences/trigger_definitions.csv):\n  - "
            ~ (problems | join("\n  - "))
            ~ "\nSee docs/marketing.md, \"Triggered audiences\", for the kinds and their "
            ~ "parameters.") }}
    {%- endif -%}
    {{ return(checked.rows | length) }}
{% endmacro %}

{#
    What each trigger kind reads, the consent purposes that takes, and the
    bounds of its parameters: one definition for the validation above and
    the docs.
#}
{% macro trigger_kind_requirements() %}
    {{ return({
        'cart_abandoned': {
            'purposes': ['marketing_email', 'analytics'], 'min_days': 1, 'min_orders': none,
            'reads': 'reads browsing (web events)'},
        'days_after_purchase': {
            'purposes': ['marketing_email'], 'min_days': 1, 'min_orders': none,
            'reads': 'reads the dates of purchases'},
        'order_milestone': {
            'purposes': ['marketing_email'], 'min_days': 0, 'min_orders': 1,
            'reads': 'reads the dates and number of purchases'},
        'repeat_purchase_due': {
            'purposes': ['marketing_email', 'analytics'], 'min_days': 0, 'min_orders': 3,
            'reads': 'models the purchase rhythm'},
    }) }}
{% endmacro %}
