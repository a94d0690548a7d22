{#
    post-hook on every model (dbt_project.yml): for a model past staging,
    check the columns the built relation actually has. It fails the model,
    and drops what it built, when a column
    - is not documented in the model's yml (e.g. a new raw column that
      slipped through a `select *`),
    - has no meta.privacy.classification,
    - is classified direct_identifier, or
    - is classified quasi_identifier without a `generalization` saying how
      it was coarsened.
    Folder config, not a test each model must remember to declare: a new
    model past staging is checked whether its author thought of it or not.
    The message names models and columns, never values.
#}
{% macro assert_privacy_classified() %}
    {%- if not execute or model.config.meta.get('privacy', {}).get('layer') == 'staging' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set problems = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}
        {%- set documented = model.columns.get(column.name) -%}
        {%- set privacy = (documented.meta.get('privacy') if documented else none) or {} -%}
        {%- set classification = privacy.get('classification') -%}
        {%- if documented is none -%}
            {%- do problems.append(column.name ~ ': undocumented column') -%}
        {%- elif not classification -%}
            {%- do problems.append(column.name ~ ': no meta.privacy.classification') -%}
        {%- elif classification == 'direct_identifier' -%}
            {%- do problems.append(column.name ~ ': direct identifier past staging') -%}
        {%- elif classification == 'quasi_identifier' and not privacy.get('generalization') -%}
            {%- do problems.append(column.name ~ ': quasi-identifier without a generalization') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {%- set built = adapter.get_relation(
            database=this.database, schema=this.schema, identifier=this.identifier) -%}
        {%- if built is not none -%}
            {%- do adapter.drop_relation(built) -%}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(
            "Privacy check failed for " ~ this ~ " (dropped):\n  - " ~ (problems | join("\n  - "))
            ~ "\nEvery column past staging must be documented in the model's yml with "
            ~ "meta.privacy (classification, data_category, justification); direct identifiers "
            ~ "must be hashed with pseudonymize() or dropped; quasi-identifiers need a "
            ~ "`generalization` saying how they were coarsened.") }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
