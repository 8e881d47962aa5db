-- Refunds: the latest version of each refund.

with

source as (

    select
        refund_id,
        order_id,
        refunded_at,
        amount,
        reason,
        updated_at,
        _export_date,
        _line_number,
        _loaded_at
    from {{ source('raw', 'sales_refunds') }}

),

renamed as (

    select
        -- ids
        {{ normalize_id('refund_id') }} as refund_id,
        {{ normalize_id('order_id') }} as order_id,

        -- categories
        {{ normalize_category('reason') }} as reason,

        -- amounts
        {{ money('amount') }} as refund_amount,

        -- timestamps
        refunded_at,
        updated_at,

        -- load metadata
        _export_date,
        _line_number,
        _loaded_at

    from source

),

deduplicated as (

    select
        *,
        {{ version_rank(['refund_id']) }} as version_rank
    from renamed

),

final as (

    select
        refund_id,
        order_id,
        reason,
        refund_amount,
        refunded_at,
        updated_at,
        _export_date,
        _loaded_at
    from deduplicated
    where version_rank = 1

)

select * from final
