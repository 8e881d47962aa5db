{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='refund_id',
        on_schema_change='fail',
    )
}}

-- One row per refund, its latest version, with the customer of the refunded order. Incremental by load
-- time (`loaded_since_last_build`): a build rebuilds the refunds whose kept (latest) version was loaded
-- since the last build, plus stored refunds whose customer has since been resolved differently (the
-- order's customer changed). A refund's row depends only on its own latest version and that customer,
-- so both are covered; delete+insert on refund_id replaces rebuilt refunds, never duplicating one. A
-- refund of an order not exported (yet) has the unknown customer.

with

refunds as (

    select
        refund_id,
        order_id,
        reason,
        refund_amount,
        refunded_at,
        _export_date,
        _loaded_at
    from {{ ref('stg_sales__refunds') }}

),

order_customers as (

    select order_id, customer_id
    from {{ ref('int_order_customers') }}

),

order_refunds as (

    select
        refunds.refund_id,
        refunds.order_id,
        {{ customer_or_unknown('order_customers.customer_id') }} as customer_id,
        refunds.reason,
        refunds.refund_amount,
        refunds.refunded_at,
        cast(refunds.refunded_at as date) as refund_date,
        refunds._export_date,
        refunds._loaded_at
    from refunds
    left join order_customers
        on refunds.order_id = order_customers.order_id

),

refunds_loaded as (

    select refund_id
    from order_refunds
    where {{ loaded_since_last_build('_loaded_at') }}

),

{% if is_incremental() %}

refunds_with_new_customer as (

    {{ stored_keys_with_new_customer('order_refunds', ['refund_id']) }}

),

refunds_to_rebuild as (

    select refund_id from refunds_loaded
    union
    select refund_id from refunds_with_new_customer

),

{% else %}

refunds_to_rebuild as (

    select refund_id from refunds_loaded

),

{% endif %}

final as (

    select
        -- ids
        order_refunds.refund_id,
        order_refunds.order_id,
        order_refunds.customer_id,

        -- why
        order_refunds.reason,

        -- amount, in the order currency
        order_refunds.refund_amount,

        -- when
        order_refunds.refunded_at,
        order_refunds.refund_date,

        -- load metadata
        order_refunds._export_date,
        order_refunds._loaded_at

    from order_refunds
    inner join refunds_to_rebuild
        on order_refunds.refund_id = refunds_to_rebuild.refund_id

)

select * from final
