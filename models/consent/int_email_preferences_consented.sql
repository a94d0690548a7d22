{#
    Stated preferences of subjects with a valid marketing_email grant: the
    interests they asked to hear about and how often, which the stated-interest
    audiences honour (macro preferences_consented_for).
#}
{{ preferences_consented_for('marketing_email') }}
