{#
    The fingerprint of the key this build used (never the key). The
    check_pseudonym_key hook compares the next build's key with it.
#}
with

final as (
    select
        {{ pseudonym_key_fingerprint() }} as key_fingerprint,
        {{ as_of_date() }} as as_of_date,
        cast(current_timestamp as timestamp) as built_at
)

select * from final
