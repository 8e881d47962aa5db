-- Orders: the latest version of each order, with the first and last day it was exported. An order
-- without a channel or currency has the deployment's default (vars `default_channel`,
-- `default_currency`); one without updated_at is versioned by its order time.

with

source as (

    select
        order_id,
        account_id,
        guest_email_hash,
        loyalty_card,
        channel,
        store_id,
        ordered_at,
        currency,
        order_total,
        updated_at,
        _export_date,
        _line_number
    from {{ source('raw', 'sales_orders') }}

),

renamed as (

    select
        -- ids
        {{ normalize_id('order_id') }} as order_id,
        {{ normalize_id('account_id') }} as account_id,
        {{ normalize_hash('guest_email_hash') }} as guest_email_hash,
        {{ normalize_id('loyalty_card') }} as loyalty_card_number,
        {{ normalize_id('store_id') }} as store_id,

        -- categories
        coalesce({{ normalize_category('channel') }}, {{ sql_string(var('default_channel')) }}) as channel,
        coalesce({{ normalize_id('currency') }}, {{ sql_string(var('default_currency')) }}) as currency,

        -- amounts
        {{ money('order_total') }} as gross_amount,

        -- timestamps
        ordered_at,
        coalesce(updated_at, ordered_at) as updated_at,

        -- load metadata
        _export_date,
        _line_number

    from source

),

deduplicated as (

    select
        *,
        {{ version_rank(['order_id']) }} as version_rank,
        min(_export_date) over (partition by order_id) as _first_export_date,
        max(_export_date) over (partition by order_id) as _last_export_date
    from renamed

),

final as (

    select
        order_id,
        account_id,
        guest_email_hash,
        loyalty_card_number,
        store_id,
        channel,
        currency,
        gross_amount,
        ordered_at,
        cast(ordered_at as date) as order_date,
        updated_at,
        _export_date,
        _first_export_date,
        _last_export_date
    from deduplicated
    where version_rank = 1

)

select * from final
