-- Point-in-time customer features for churn and lifetime-value models: one row per
-- (customer_id, snapshot_date). Every value uses only what happened strictly before snapshot_date.
-- Column names are the ML library's contract.

with

snapshots as (

    select customer_id, snapshot_date, first_seen_at
    from {{ ref('int_customer_snapshots') }}

),

order_features as (

    select * from {{ ref('int_customer_features__orders') }}

),

engagement_features as (

    select * from {{ ref('int_customer_features__engagement') }}

),

attribute_features as (

    select * from {{ ref('int_customer_features__attributes') }}

),

final as (

    select
        -- grain
        snapshots.customer_id,
        snapshots.snapshot_date,

        -- recency, tenure, frequency
        order_features.recency_days,
        {{ days_between('snapshots.first_seen_at', 'snapshots.snapshot_date') }} as tenure_days,
        order_features.frequency,

        -- monetary
        order_features.monetary_total,
        order_features.avg_order_value,
        order_features.orders_90d,
        order_features.orders_365d,
        order_features.revenue_90d,
        order_features.revenue_365d,
        order_features.mean_days_between_orders,
        order_features.refund_share,
        order_features.web_order_share,

        -- engagement
        engagement_features.tickets_365d,
        engagement_features.complaints_365d,
        engagement_features.emails_opened_90d,
        engagement_features.emails_clicked_90d,
        engagement_features.unsubscribed,

        -- attributes as of the snapshot
        attribute_features.marketing_consent,
        attribute_features.loyalty_tier,
        attribute_features.region,
        attribute_features.age_band,
        attribute_features.acquisition_channel

    from snapshots
    inner join order_features
        on snapshots.customer_id = order_features.customer_id
        and snapshots.snapshot_date = order_features.snapshot_date
    inner join engagement_features
        on snapshots.customer_id = engagement_features.customer_id
        and snapshots.snapshot_date = engagement_features.snapshot_date
    inner join attribute_features
        on snapshots.customer_id = attribute_features.customer_id
        and snapshots.snapshot_date = attribute_features.snapshot_date

)

select * from final
