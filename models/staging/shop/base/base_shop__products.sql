{{ validate_raw_rows('products') }}
