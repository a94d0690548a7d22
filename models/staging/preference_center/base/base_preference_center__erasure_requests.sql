{{ validate_raw_rows(
    source_relation=source('preference_center', 'erasure_requests'),
    primary_key='request_id',
    columns={
        'request_id': 'bigint',
        'customer_id': 'bigint',
        'requested_at': 'timestamp',
        'status': 'varchar',
    },
    required=['customer_id', 'requested_at', 'status'],
    timestamp_column='requested_at',
    accepted_values={'status': ['received', 'completed', 'rejected']},
    foreign_keys={'customer_id': ref('base_shop__customers')},
) }}
