{#
    What a privacy test (k_anonymity, l_diversity, min_cell_size) checks:
    the tested model's declaration (published_privacy of tested_node()),
    with the test's own `arguments` on top where given (not none): a
    fixture that declares nothing passes them, a published model may not
    (the privacy post-hook refuses them). `arguments` maps the keys the
    test needs (quasi_identifiers, sensitive_attribute,
    subject_count_column, k, diversity) to the test's argument for each.
    Fails,
    naming the test, the model and the meta.privacy key, when one is
    missing. Returns the declaration with the arguments applied.
#}
{% macro privacy_test_settings(test_name, relation, arguments) %}
    {%- set settings = published_privacy(tested_node()) -%}
    {%- for key, value in arguments.items() -%}
        {%- if value is not none -%}
            {%- do settings.update({key: value}) -%}
        {%- endif -%}
        {%- set value = settings[key] -%}
        {%- if execute and (value is none
            or value is string and key == 'quasi_identifiers' or not value) -%}
            {{ exceptions.raise_compiler_error(
                test_name ~ " on " ~ relation ~ ": no " ~ key ~ "; declare it in the model's "
                ~ "meta.privacy." ~ key
                ~ (" (a list of columns)" if key == 'quasi_identifiers' else "")) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(settings) }}
{% endmacro %}
