-- Web-shop accounts: the latest version of each account. PII is carried only as hashes.

with

source as (

    select
        account_id,
        email_hash,
        phone_hash,
        created_at,
        updated_at,
        _export_date,
        _line_number
    from {{ source('raw', 'sales_customer_accounts') }}

),

renamed as (

    select
        -- ids
        {{ normalize_id('account_id') }} as account_id,

        -- identity hashes
        {{ normalize_hash('email_hash') }} as email_hash,
        {{ normalize_hash('phone_hash') }} as phone_hash,

        -- timestamps
        created_at,
        updated_at,

        -- load metadata
        _export_date,
        _line_number

    from source

),

deduplicated as (

    select
        *,
        {{ version_rank(['account_id']) }} as version_rank
    from renamed

),

final as (

    select
        account_id,
        email_hash,
        phone_hash,
        created_at,
        updated_at,
        _export_date
    from deduplicated
    where version_rank = 1

)

select * from final
