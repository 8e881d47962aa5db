-- Every (order, export day) on which the order, one of its lines or one of its refunds was
-- exported. The partitioned `fct_orders` picks the orders to rebuild from here. A refund that moved
-- to another order marks both orders on each of its export days.

with

order_exports as (

    select
        {{ normalize_id('order_id') }} as order_id,
        _export_date
    from {{ source('raw', 'sales_orders') }}

),

line_exports as (

    select
        {{ normalize_id('order_id') }} as order_id,
        _export_date
    from {{ source('raw', 'sales_order_lines') }}

),

refund_versions as (

    select
        {{ normalize_id('refund_id') }} as refund_id,
        {{ normalize_id('order_id') }} as order_id,
        _export_date
    from {{ source('raw', 'sales_refunds') }}

),

refund_orders as (

    select distinct refund_id, order_id
    from refund_versions

),

refund_days as (

    select distinct refund_id, _export_date
    from refund_versions

),

refund_exports as (

    -- every order a refund ever pointed at, on every day the refund was exported
    select
        refund_orders.order_id,
        refund_days._export_date
    from refund_days
    inner join refund_orders
        on refund_days.refund_id = refund_orders.refund_id

),

unioned as (

    select order_id, _export_date from order_exports
    union
    select order_id, _export_date from line_exports
    union
    select order_id, _export_date from refund_exports

),

final as (

    select
        order_id,
        _export_date
    from unioned
    where order_id is not null

)

select * from final
