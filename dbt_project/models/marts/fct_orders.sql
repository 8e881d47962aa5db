{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='fail',
    )
}}

-- One row per order. Incremental by load time (`loaded_since_last_build`): a build rebuilds every order
-- whose order row, line or refund was loaded since the last build, always from its LATEST version in the
-- full deduplicated staging, so reloading an old export day never restores a stale version and a late
-- refund updates its order. It also rebuilds stored orders whose customer has since been resolved
-- differently (e.g. a loyalty card whose contact arrived later), as of the identity table built just
-- before it. delete+insert on order_id replaces every rebuilt order, never duplicating one. Orders nobody
-- can be resolved to carry the unknown customer. Any sequence of loads and builds, or a full refresh,
-- gives identical rows.

with

orders as (

    select * from {{ ref('int_orders') }}

),

order_loads as (

    -- when each order's row, lines or refunds were last loaded
    select
        order_id,
        max(_loaded_at) as _loaded_at
    from {{ ref('stg_sales__order_loads') }}
    group by order_id

),

orders_loaded as (

    select order_id
    from order_loads
    where {{ loaded_since_last_build('_loaded_at') }}

),

{% if is_incremental() %}

orders_with_new_customer as (

    {{ stored_keys_with_new_customer('orders', ['order_id']) }}

),

orders_to_rebuild as (

    select order_id from orders_loaded
    union
    select order_id from orders_with_new_customer

),

{% else %}

orders_to_rebuild as (

    select order_id from orders_loaded

),

{% endif %}

final as (

    select
        -- ids
        orders.order_id,
        orders.customer_id,

        -- where and when
        orders.channel,
        orders.store_id,
        orders.ordered_at,
        orders.order_date,

        -- amounts, in the order currency
        orders.currency,
        orders.gross_amount,
        orders.refunded_amount,
        orders.net_amount,

        -- lines
        orders.line_count,

        -- load metadata
        orders._export_date,
        order_loads._loaded_at

    from orders
    inner join orders_to_rebuild
        on orders.order_id = orders_to_rebuild.order_id
    inner join order_loads
        on orders.order_id = order_loads.order_id

)

select * from final
