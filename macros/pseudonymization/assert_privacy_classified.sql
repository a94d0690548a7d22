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
    It also fails a model of a consent-filtered layer (behavior, segments,
    audiences, measurement, contextual, release) that does not declare
    meta.privacy.consent_purpose, or that declares one without a
    consent_respected test for it. A model without a pseudonym column (an
    aggregate, or a published pseudonym-free table) has no subject column to
    test; it must instead read only models in scope of the same purpose
    (disclosure control excepted: the release's decisions, and other
    purposes' published aggregates for the release layer and models that
    declare meta.privacy.disclosure_control).
    A published model (meta.privacy.published) must declare its
    quasi_identifiers (columns it has), hold no pseudonym, and carry the
    test that proves invariant 6 for them: k_anonymity, or, for an
    aggregated model (a subject_count_column), min_cell_size; and
    l_diversity when it declares a sensitive_attribute. The tests read
    the model's declaration (published_privacy), so they may not pass
    their own quasi-identifiers, column, k or l: a second copy could
    drift from the first. rpt_reidentification_risk must read it.
    Folder config, not a test each model must remember to declare: a new
    model past staging is checked whether its author thought of it or not.
    The message names models and columns, never values.
#}
{% macro assert_privacy_classified() %}
    {#- The folder says the layer (models/<layer>/ or models/marts/<layer>/):
        a model cannot opt out by overriding meta.privacy. -#}
    {%- set layer = model.fqn[2] if model.fqn[1] == 'marts' else model.fqn[1] -%}
    {%- if not execute or layer == 'staging' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set problems = [] -%}
    {%- set pseudonyms = [] -%}
    {%- set built_columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}
        {%- do built_columns.append(column.name) -%}
        {%- set documented = model.columns.get(column.name) -%}
        {%- set privacy = (documented.meta.get('privacy') if documented else none) or {} -%}
        {%- set classification = privacy.get('classification') -%}
        {%- if documented is none -%}
            {%- do problems.append(column.name ~ ': undocumented column') -%}
        {%- elif not classification -%}
            {%- do problems.append(column.name ~ ': no meta.privacy.classification') -%}
        {%- elif classification == 'pseudonym' -%}
            {%- do pseudonyms.append(column.name) -%}
        {%- elif classification == 'direct_identifier' -%}
            {%- do problems.append(column.name ~ ': direct identifier past staging') -%}
        {%- elif classification == 'quasi_identifier' and not privacy.get('generalization') -%}
            {%- do problems.append(column.name ~ ': quasi-identifier without a generalization') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set purpose = model.config.meta.get('privacy', {}).get('consent_purpose') -%}
    {%- set consent_filtered = [
        'behavior', 'segments', 'audiences', 'measurement', 'contextual', 'release',
    ] -%}
    {%- if layer in consent_filtered and not purpose -%}
        {%- do problems.append(
            'model: no meta.privacy.consent_purpose in a consent-filtered layer') -%}
    {%- endif -%}
    {%- set privacy_meta = model.config.meta.get('privacy', {}) -%}
    {%- set tests_of_model = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'test' and model.unique_id in node.depends_on.nodes
        and node.test_metadata -%}
        {%- do tests_of_model.append(node.test_metadata) -%}
    {%- endfor -%}
    {%- if privacy_meta.get('published') -%}
        {%- set declared = published_privacy(model) -%}
        {%- set aggregated = declared.subject_count_column -%}
        {%- set sensitive = declared.sensitive_attribute -%}
        {%- if not declared.quasi_identifiers -%}
            {%- do problems.append('model: published without meta.privacy.quasi_identifiers') -%}
        {%- endif -%}
        {%- for name in declared.quasi_identifiers + [aggregated, sensitive]
            if name and name not in built_columns -%}
            {%- do problems.append("model: meta.privacy names '" ~ name ~ "', not a column") -%}
        {%- endfor -%}
        {%- if pseudonyms -%}
            {%- do problems.append('model: published with a pseudonym column ('
                ~ (pseudonyms | join(', '))
                ~ '); BI tables must not link to subjects') -%}
        {%- endif -%}
        {%- set protecting = {
            'k_anonymity': none,
            'min_cell_size': aggregated,
            'l_diversity': sensitive,
        } -%}
        {%- set present = [] -%}
        {%- for test in tests_of_model if test.name in protecting -%}
            {%- do present.append(test.name) -%}
            {%- set repeated = test.kwargs.keys()
                | reject('in', ['model', 'column_name']) | list -%}
            {%- if test.kwargs.get('column_name') not in (none, protecting[test.name]) -%}
                {%- do repeated.append('column ' ~ test.kwargs.get('column_name')) -%}
            {%- endif -%}
            {%- if repeated -%}
                {%- do problems.append("model: its " ~ test.name ~ " test passes "
                    ~ (repeated | join(', '))
                    ~ "; the test reads meta.privacy, declare them there only") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if aggregated and 'min_cell_size' not in present -%}
            {%- do problems.append(
                "model: published without a min_cell_size test on " ~ aggregated) -%}
        {%- elif not aggregated and 'k_anonymity' not in present -%}
            {%- do problems.append(
                "model: published without a k_anonymity test over its quasi_identifiers") -%}
        {%- endif -%}
        {%- if sensitive and 'l_diversity' not in present -%}
            {%- do problems.append("model: publishes sensitive attribute '" ~ sensitive
                ~ "' without an l_diversity test on it") -%}
        {%- endif -%}
        {#- Invariants 6 and 8 for the release as a whole: the model says how its rows
            enter the release (meta.privacy.release), and every sum, mean or rate it
            publishes is a declared magnitude (or derived from one) under the magnitude
            rules, as an undeclared quasi-identifier would not pass either. -#}
        {%- set release = privacy_meta.get('release') or {} -%}
        {%- if not release.get('candidates') or not release.get('counts') -%}
            {%- do problems.append("model: published without meta.privacy.release (candidates, "
                ~ "counts): the release cannot protect what it does not know") -%}
        {%- endif -%}
        {%- set declared_aggregates = [aggregated] -%}
        {%- for count in release.get('counts') or [] -%}
            {%- do declared_aggregates.append(count.get('column')) -%}
            {%- do declared_aggregates.extend(count.get('derived') or []) -%}
        {%- endfor -%}
        {%- for magnitude in release.get('magnitudes') or [] -%}
            {%- do declared_aggregates.append(magnitude.get('column')) -%}
            {%- do declared_aggregates.extend(magnitude.get('derived') or []) -%}
        {%- endfor -%}
        {%- for name in built_columns if name not in declared_aggregates -%}
            {%- set documented = model.columns.get(name) -%}
            {%- if documented and (documented.meta.get('privacy') or {}).get('classification')
                == 'aggregate' -%}
                {%- do problems.append(name ~ ": a published aggregate that meta.privacy.release "
                    ~ "declares neither as a count nor as a magnitude (or derived from one)") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if release.get('magnitudes') and 'magnitude_protected' not in (
            tests_of_model | map(attribute='name') | list) -%}
            {%- do problems.append(
                "model: publishes magnitudes without a magnitude_protected test") -%}
        {%- endif -%}
        {%- set report = graph.nodes.get('model.' ~ project_name ~ '.rpt_reidentification_risk') -%}
        {%- if report is none or model.unique_id not in report.depends_on.nodes -%}
            {%- do problems.append("model: published but not covered by rpt_reidentification_risk; "
                ~ "name it in a `-- depends_on:` line at the top of that model") -%}
        {%- endif -%}
    {%- endif -%}
    {%- if purpose and not pseudonyms -%}
        {#- No subject column to test (an aggregate, a pseudonym-free table): it
            is in scope when every model it reads is in scope of the same purpose.
            Disclosure control is the one exception, as it spans every published
            table whatever its purpose: any model may read the release layer's
            decisions (row ids, reasons; no pseudonym), and the release layer and a
            model that declares meta.privacy.disclosure_control may read the
            pseudonym-free aggregates of another purpose's published tables. -#}
        {%- set controls_disclosure = layer == 'release'
            or privacy_meta.get('disclosure_control') -%}
        {%- for parent_id in model.depends_on.nodes if parent_id.startswith('model.') -%}
            {%- set parent = graph.nodes[parent_id] -%}
            {%- set parent_privacy = parent.config.meta.get('privacy', {}) -%}
            {%- set parent_purpose = parent_privacy.get('consent_purpose') -%}
            {%- set parent_layer = parent.fqn[2] if parent.fqn[1] == 'marts' else parent.fqn[1] -%}
            {%- set parent_pseudonyms = [] -%}
            {%- for column in parent.columns.values()
                if ((column.meta.get('privacy') or {}).get('classification')) == 'pseudonym' -%}
                {%- do parent_pseudonyms.append(column.name) -%}
            {%- endfor -%}
            {%- set parent_is_aggregate = not parent_pseudonyms and (
                parent_privacy.get('subject_count_column') or parent_privacy.get('published')) -%}
            {%- set parent_is_decision = parent_layer == 'release' and not parent_pseudonyms -%}
            {%- if parent_purpose != purpose and not parent_is_decision
                and not (controls_disclosure and parent_is_aggregate) -%}
                {%- do problems.append("model: aggregates over " ~ parent.name
                    ~ ", which is not in scope of '" ~ purpose ~ "' (its consent_purpose: "
                    ~ (parent_purpose or 'none') ~ ")") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- elif purpose -%}
        {%- set checked = [] -%}
        {%- for test in tests_of_model
            if test.name == 'consent_respected' and test.kwargs.get('purpose') == purpose -%}
            {%- do checked.append(test.name) -%}
        {%- endfor -%}
        {%- if not checked -%}
            {%- do problems.append("model: declares consent_purpose '" ~ purpose
                ~ "' but has no consent_respected test for it") -%}
        {%- endif -%}
    {%- endif -%}
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
