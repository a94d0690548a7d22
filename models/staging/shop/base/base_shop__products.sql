{{ validate_raw_rows(
    source_relation=source('shop', 'products'),
    primary_key='product_id',
    columns={
        'product_id': 'bigint',
        'product_name': 'varchar',
        'category': 'varchar',
        'subcategory': 'varchar',
        'list_price': 'decimal(12, 2)',
    },
    required=['category', 'list_price'],
    amount_columns=['list_price'],
) }}
