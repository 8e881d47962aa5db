-- Every (order, load) in which the order row, one of its lines or one of its refunds was loaded into
-- raw, with the export day it came in. The incremental `fct_orders` and `fct_order_lines` pick the
-- orders to rebuild from here: those loaded since their last build. A refund that moved to another order
-- marks both orders in each of its loads.

with

order_loads as (

    select
        {{ normalize_id('order_id') }} as order_id,
        _export_date,
        _loaded_at
    from {{ source('raw', 'sales_orders') }}

),

line_loads as (

    select
        {{ normalize_id('order_id') }} as order_id,
        _export_date,
        _loaded_at
    from {{ source('raw', 'sales_order_lines') }}

),

refund_versions as (

    select
        {{ normalize_id('refund_id') }} as refund_id,
        {{ normalize_id('order_id') }} as order_id,
        _export_date,
        _loaded_at
    from {{ source('raw', 'sales_refunds') }}

),

refund_orders as (

    select distinct refund_id, order_id
    from refund_versions

),

refund_days as (

    select distinct refund_id, _export_date, _loaded_at
    from refund_versions

),

refund_loads as (

    -- every order a refund ever pointed at, in every load of the refund
    select
        refund_orders.order_id,
        refund_days._export_date,
        refund_days._loaded_at
    from refund_days
    inner join refund_orders
        on refund_days.refund_id = refund_orders.refund_id

),

unioned as (

    select order_id, _export_date, _loaded_at from order_loads
    union
    select order_id, _export_date, _loaded_at from line_loads
    union
    select order_id, _export_date, _loaded_at from refund_loads

),

final as (

    select
        order_id,
        _export_date,
        _loaded_at
    from unioned
    where order_id is not null

)

select * from final
