{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['order_id', 'line_number'],
        on_schema_change='fail',
    )
}}

-- One row per order line, its latest version, with the customer and time of its order. Incremental like
-- fct_orders: a build rebuilds every line of each order whose order row, line or refund was loaded since
-- the last build, from the latest versions, plus stored lines whose customer has since been resolved
-- differently. delete+insert on (order_id, line_number) replaces rebuilt lines, never duplicating one. A line whose order has not been
-- exported (yet) is kept with the unknown customer and no order time; the order's export rebuilds it.

with

lines as (

    select
        order_id,
        line_number,
        sku,
        category,
        quantity,
        unit_price,
        line_amount,
        _export_date
    from {{ ref('stg_sales__order_lines') }}

),

orders as (

    select order_id, customer_id, ordered_at, order_date, currency
    from {{ ref('int_orders') }}

),

order_lines as (

    select
        lines.order_id,
        lines.line_number,
        {{ customer_or_unknown('orders.customer_id') }} as customer_id,
        orders.ordered_at,
        orders.order_date,
        lines.sku,
        lines.category,
        lines.quantity,
        orders.currency,
        lines.unit_price,
        lines.line_amount,
        lines._export_date
    from lines
    left join orders
        on lines.order_id = orders.order_id

),

order_loads as (

    -- when each order's row, lines or refunds were last loaded
    select
        order_id,
        max(_loaded_at) as _loaded_at
    from {{ ref('stg_sales__order_loads') }}
    group by order_id

),

lines_loaded as (

    select order_lines.order_id, order_lines.line_number
    from order_lines
    inner join order_loads
        on order_lines.order_id = order_loads.order_id
    where {{ loaded_since_last_build('order_loads._loaded_at') }}

),

{% if is_incremental() %}

lines_with_new_customer as (

    {{ stored_keys_with_new_customer('order_lines', ['order_id', 'line_number']) }}

),

lines_to_rebuild as (

    select order_id, line_number from lines_loaded
    union
    select order_id, line_number from lines_with_new_customer

),

{% else %}

lines_to_rebuild as (

    select order_id, line_number from lines_loaded

),

{% endif %}

final as (

    select
        -- ids
        order_lines.order_id,
        order_lines.line_number,
        order_lines.customer_id,

        -- when, from the order
        order_lines.ordered_at,
        order_lines.order_date,

        -- product
        order_lines.sku,
        order_lines.category,

        -- quantities and amounts, in the order currency
        order_lines.quantity,
        order_lines.currency,
        order_lines.unit_price,
        order_lines.line_amount,

        -- load metadata
        order_lines._export_date,
        order_loads._loaded_at

    from order_lines
    inner join lines_to_rebuild
        on order_lines.order_id = lines_to_rebuild.order_id
        and order_lines.line_number = lines_to_rebuild.line_number
    inner join order_loads
        on order_lines.order_id = order_loads.order_id

)

select * from final
