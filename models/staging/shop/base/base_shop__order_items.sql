{{ validate_raw_rows(
    source_relation=source('shop', 'order_items'),
    primary_key='order_item_id',
    columns={
        'order_item_id': 'bigint',
        'order_id': 'bigint',
        'product_id': 'bigint',
        'quantity': 'integer',
        'unit_price': 'decimal(12, 2)',
    },
    required=['order_id', 'product_id', 'quantity', 'unit_price'],
    amount_columns=['unit_price'],
    foreign_keys={
        'order_id': ref('base_shop__orders'),
        'product_id': ref('base_shop__products'),
    },
) }}
