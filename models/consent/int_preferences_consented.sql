{# Stated preferences of subjects with a valid personalization grant (macro docs). #}
{{ preferences_consented_for('personalization') }}
