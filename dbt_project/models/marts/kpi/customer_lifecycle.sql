-- Lifecycle segment per (customer, snapshot date), on the snapshot calendar of customer_features and
-- from its point-in-time values. The rules are tried in this order and the first that matches wins, so
-- every customer has exactly one segment per snapshot (thresholds are dbt vars, from the configuration's
-- segments.lifecycle):
--   prospect  no order before the snapshot
--   new       first order at most segment_new_days days before the snapshot
--   lost      last order more than segment_lost_days days before the snapshot
--   one-time  exactly one order
--   at-risk   last order more than segment_at_risk_days days before, or more than
--             segment_at_risk_factor x the mean days between the customer's orders (counted as at
--             least segment_at_risk_min_gap_days)
--   regular   at least segment_regular_orders_365d orders in the 365 days before the snapshot
--   rare      every other repeat buyer

with

features as (

    select customer_id, snapshot_date, recency_days, frequency, orders_365d, mean_days_between_orders
    from {{ ref('customer_features') }}

),

customers as (

    select customer_id, first_order_at
    from {{ ref('dim_customers') }}

),

measures as (

    select
        features.customer_id,
        features.snapshot_date,
        -- with an order before the snapshot, the first order ever is before it too
        case
            when features.frequency > 0
                then {{ days_between('customers.first_order_at', 'features.snapshot_date') }}
        end as days_since_first_order,
        features.recency_days,
        features.frequency,
        features.orders_365d,
        features.mean_days_between_orders
    from features
    inner join customers
        on features.customer_id = customers.customer_id

),

final as (

    select
        -- grain
        customer_id,
        snapshot_date,
        snapshot_date = {{ scoring_date() }} as is_scoring_date,

        -- segment
        case
            when frequency = 0 then 'prospect'
            when days_since_first_order <= {{ var('segment_new_days') }} then 'new'
            when recency_days > {{ var('segment_lost_days') }} then 'lost'
            when frequency = 1 then 'one-time'
            when recency_days > {{ var('segment_at_risk_days') }}
                or recency_days > {{ var('segment_at_risk_factor') }}
                    * greatest(mean_days_between_orders, {{ var('segment_at_risk_min_gap_days') }})
                then 'at-risk'
            when orders_365d >= {{ var('segment_regular_orders_365d') }} then 'regular'
            else 'rare'
        end as lifecycle_segment,

        -- the point-in-time values the rules read
        days_since_first_order,
        recency_days,
        frequency,
        orders_365d,
        mean_days_between_orders

    from measures

)

select * from final
