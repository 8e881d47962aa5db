-- Order features per (customer, snapshot date), point-in-time: only orders placed strictly before
-- the snapshot, and only refunds made strictly before it. Money in the order currency, as doubles.

with

snapshots as (

    select customer_id, snapshot_date
    from {{ ref('int_customer_snapshots') }}

),

orders as (

    select order_id, customer_id, channel, ordered_at, gross_amount
    from {{ ref('int_orders') }}
    where customer_id <> {{ unknown_customer_id() }}

),

refunds as (

    select order_id, refunded_at, refund_amount
    from {{ ref('stg_sales__refunds') }}

),

orders_before_snapshot as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,
        orders.order_id,
        orders.channel,
        orders.ordered_at,
        orders.gross_amount
    from snapshots
    inner join orders
        on snapshots.customer_id = orders.customer_id
        and orders.ordered_at < snapshots.snapshot_date

),

refunds_before_snapshot as (

    select
        orders_before_snapshot.customer_id,
        orders_before_snapshot.snapshot_date,
        orders_before_snapshot.order_id,
        sum(refunds.refund_amount) as refunded_amount
    from orders_before_snapshot
    inner join refunds
        on orders_before_snapshot.order_id = refunds.order_id
        and refunds.refunded_at < orders_before_snapshot.snapshot_date
    group by
        orders_before_snapshot.customer_id,
        orders_before_snapshot.snapshot_date,
        orders_before_snapshot.order_id

),

order_values as (

    select
        orders_before_snapshot.customer_id,
        orders_before_snapshot.snapshot_date,
        orders_before_snapshot.channel,
        orders_before_snapshot.ordered_at,
        orders_before_snapshot.gross_amount,
        coalesce(refunds_before_snapshot.refunded_amount, 0) as refunded_amount,
        orders_before_snapshot.gross_amount
            - coalesce(refunds_before_snapshot.refunded_amount, 0) as net_amount,
        {{ in_trailing_days('orders_before_snapshot.ordered_at', 'orders_before_snapshot.snapshot_date', 90) }} as is_within_90d,
        {{ in_trailing_days('orders_before_snapshot.ordered_at', 'orders_before_snapshot.snapshot_date', 365) }} as is_within_365d
    from orders_before_snapshot
    left join refunds_before_snapshot
        on orders_before_snapshot.customer_id = refunds_before_snapshot.customer_id
        and orders_before_snapshot.snapshot_date = refunds_before_snapshot.snapshot_date
        and orders_before_snapshot.order_id = refunds_before_snapshot.order_id

),

aggregated as (

    select
        customer_id,
        snapshot_date,

        -- counts
        count(*) as order_count,
        {{ count_where("channel in " ~ sql_string_list(var('online_channels'))) }} as web_order_count,
        {{ count_where('is_within_90d') }} as orders_90d,
        {{ count_where('is_within_365d') }} as orders_365d,

        -- money
        sum(gross_amount) as gross_total,
        sum(refunded_amount) as refunded_total,
        sum(net_amount) as net_total,
        {{ sum_where('net_amount', 'is_within_90d') }} as revenue_90d,
        {{ sum_where('net_amount', 'is_within_365d') }} as revenue_365d,

        -- timing
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at

    from order_values
    group by customer_id, snapshot_date

),

final as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,

        -- recency and frequency
        {{ days_between('aggregated.last_order_at', 'snapshots.snapshot_date') }} as recency_days,
        coalesce(aggregated.order_count, 0) as frequency,
        coalesce(aggregated.orders_90d, 0) as orders_90d,
        coalesce(aggregated.orders_365d, 0) as orders_365d,
        case
            when aggregated.order_count >= 2
                then {{ to_double(days_between('aggregated.first_order_at', 'aggregated.last_order_at')) }}
                    / (aggregated.order_count - 1)
        end as mean_days_between_orders,

        -- monetary (net of refunds made before the snapshot)
        {{ to_double('coalesce(aggregated.net_total, 0)') }} as monetary_total,
        {{ to_double('aggregated.net_total') }} / nullif(aggregated.order_count, 0) as avg_order_value,
        {{ to_double('coalesce(aggregated.revenue_90d, 0)') }} as revenue_90d,
        {{ to_double('coalesce(aggregated.revenue_365d, 0)') }} as revenue_365d,

        -- mix
        case
            when aggregated.gross_total > 0
                then least(greatest({{ to_double('aggregated.refunded_total') }} / {{ to_double('aggregated.gross_total') }}, 0), 1)
        end as refund_share,
        {{ to_double('aggregated.web_order_count') }} / nullif(aggregated.order_count, 0) as web_order_share

    from snapshots
    left join aggregated
        on snapshots.customer_id = aggregated.customer_id
        and snapshots.snapshot_date = aggregated.snapshot_date

)

select * from final
