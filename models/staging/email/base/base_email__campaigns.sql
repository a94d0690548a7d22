{{ validate_raw_rows(
    source_relation=source('email', 'campaigns'),
    primary_key='campaign_id',
    columns={
        'campaign_id': 'bigint',
        'campaign_name': 'varchar',
        'channel': 'varchar',
        'objective': 'varchar',
        'launched_at': 'timestamp',
    },
    required=['channel', 'launched_at'],
    timestamp_column='launched_at',
    accepted_values={
        'channel': ['email'],
        'objective': ['promotion', 'newsletter', 'winback', 'product_launch'],
    },
) }}
