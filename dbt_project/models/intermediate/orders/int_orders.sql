-- One row per order, its latest version, with its customer, refunds to date and line count.
-- The single definition of an order row: fct_orders publishes it window by window, the customer
-- models aggregate it whole.

with

orders as (

    select
        order_id,
        channel,
        store_id,
        ordered_at,
        order_date,
        currency,
        gross_amount,
        _first_export_date
    from {{ ref('stg_sales__orders') }}

),

order_customers as (

    select order_id, customer_id
    from {{ ref('int_order_customers') }}

),

order_lines as (

    select
        order_id,
        count(*) as line_count
    from {{ ref('stg_sales__order_lines') }}
    group by order_id

),

refunds as (

    select
        order_id,
        sum(refund_amount) as refunded_amount
    from {{ ref('stg_sales__refunds') }}
    group by order_id

),

final as (

    select
        -- ids
        orders.order_id,
        order_customers.customer_id,

        -- where and when
        orders.channel,
        orders.store_id,
        orders.ordered_at,
        orders.order_date,

        -- amounts, in the order currency
        orders.currency,
        orders.gross_amount,
        {{ money('coalesce(refunds.refunded_amount, 0)') }} as refunded_amount,
        {{ money('orders.gross_amount - coalesce(refunds.refunded_amount, 0)') }} as net_amount,

        -- lines
        coalesce(order_lines.line_count, 0) as line_count,

        -- load metadata: the first day the order was exported
        orders._first_export_date as _export_date

    from orders
    left join order_customers
        on orders.order_id = order_customers.order_id
    left join order_lines
        on orders.order_id = order_lines.order_id
    left join refunds
        on orders.order_id = refunds.order_id

)

select * from final
