-- Order lines: the latest version of each (order, line number).

with

source as (

    select
        order_id,
        line_number,
        sku,
        category,
        quantity,
        unit_price,
        line_amount,
        updated_at,
        _export_date,
        _line_number,
        _loaded_at
    from {{ source('raw', 'sales_order_lines') }}

),

renamed as (

    select
        -- ids
        {{ normalize_id('order_id') }} as order_id,
        line_number,
        {{ normalize_id('sku') }} as sku,

        -- categories
        {{ normalize_category('category') }} as category,

        -- quantities and amounts
        quantity,
        {{ money('unit_price') }} as unit_price,
        {{ money('line_amount') }} as line_amount,

        -- timestamps
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
        {{ version_rank(['order_id', 'line_number']) }} as version_rank
    from renamed

),

final as (

    select
        order_id,
        line_number,
        sku,
        category,
        quantity,
        unit_price,
        line_amount,
        updated_at,
        _export_date,
        _loaded_at
    from deduplicated
    where version_rank = 1

)

select * from final
