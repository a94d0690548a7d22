{#- gender and crm_note are never selected: no purpose (see the source yml). #}
{{ validate_raw_rows(
    source_relation=source('shop', 'customers'),
    primary_key='customer_id',
    columns={
        'customer_id': 'bigint',
        'first_name': 'varchar',
        'last_name': 'varchar',
        'email': 'varchar',
        'phone': 'varchar',
        'birth_date': 'date',
        'street_address': 'varchar',
        'postcode': 'varchar',
        'city': 'varchar',
        'country': 'varchar',
        'signup_at': 'timestamp',
    },
    required=['country', 'signup_at'],
    timestamp_column='signup_at',
) }}
