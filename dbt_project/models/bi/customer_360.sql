{{ config(tags=['customer_360']) }}

-- One row per known customer (the unknown customer left out): the golden record (dim_customers) with the
-- customer's lifecycle segment, RFM scores and ABC/XYZ class at the scoring date, and each model's latest
-- scores at or before the scoring date (a model that could not score this date leaves its previous
-- scores, dated by their scoring-date column), with each model's top three reasons and their contributions
-- (nulls where a score table predates those columns). A customer without a segment, class or score (no
-- orders in the window, not scored) keeps nulls there. The predictive profile BI tools show beside them:
-- order history at the scoring date (customer_features), a heuristic next order date, the BTYD expected
-- orders (ml.customer_btyd, nulls until the ML step writes it) and the value at risk.

with

customers as (

    select * from {{ ref('dim_customers') }}
    where not is_unknown_customer

),

lifecycle as (

    select customer_id, snapshot_date, lifecycle_segment
    from {{ ref('customer_lifecycle') }}
    where is_scoring_date

),

rfm as (

    select customer_id, recency_score, frequency_score, monetary_score, rfm_cell
    from {{ ref('customer_rfm') }}
    where is_scoring_date

),

abc_xyz as (

    select customer_id, abc_class, xyz_class, abc_xyz_class
    from {{ ref('customer_abc_xyz') }}

),

order_history as (

    -- orders before the scoring date, the snapshot the segments see (the warehouse's scoring date)
    select
        customer_id,
        snapshot_date,
        frequency,
        monetary_total,
        avg_order_value,
        mean_days_between_orders,
        -- the calendar day of the last order (recency_days counts the days from it to the snapshot)
        snapshot_date - cast(recency_days as integer) as last_order_date
    from {{ ref('customer_features') }}
    where snapshot_date = (select snapshot_date from {{ ref('int_snapshot_dates') }} where is_scoring_date)

),

next_order as (

    -- a simple heuristic, not a model: the last order plus the customer's mean gap between orders, to the
    -- nearest day (halves up: floor(x + 0.5) rounds alike in DuckDB and PostgreSQL)
    select
        customer_id,
        snapshot_date,
        case
            when frequency >= 2
                then last_order_date + cast(floor(mean_days_between_orders + 0.5) as integer)
        end as expected_next_order_date
    from order_history

),

churn_scores as (

    -- through ml_scores_or_empty: a score table from before the reason columns gives nulls there
    select
        customer_id,
        scoring_date,
        horizon_days,
        churn_probability,
        risk_band,
        reason_1,
        reason_2,
        reason_3,
        reason_1_contribution,
        reason_2_contribution,
        reason_3_contribution,
        model_version
    from {{ ml_scores_or_empty('customer_churn_scores') }}
    where scoring_date = ({{ latest_scoring_date(ml_scores_or_empty('customer_churn_scores')) }})

),

clv_scores as (

    select
        customer_id,
        scoring_date,
        horizon_days,
        predicted_revenue,
        clv_decile,
        reason_1,
        reason_2,
        reason_3,
        reason_1_contribution,
        reason_2_contribution,
        reason_3_contribution,
        model_version
    from {{ ml_scores_or_empty('customer_clv') }}
    where scoring_date = ({{ latest_scoring_date(ml_scores_or_empty('customer_clv')) }})

),

btyd_scores as (

    select customer_id, scoring_date, horizon_days, expected_orders, model_version
    from {{ ml_scores_or_empty('customer_btyd') }}
    where scoring_date = ({{ latest_scoring_date(ml_scores_or_empty('customer_btyd')) }})

),

final as (

    select
        -- ids
        customers.customer_id,

        -- lifecycle dates
        customers.first_seen_at,
        customers.first_order_at,
        customers.last_order_at,

        -- lifetime value, in the order currency
        customers.lifetime_orders,
        customers.lifetime_gross_revenue,
        customers.lifetime_refunds,
        customers.lifetime_net_revenue,

        -- CRM attributes
        customers.region,
        customers.age_band,
        customers.acquisition_channel,
        customers.marketing_consent,
        customers.loyalty_tier,

        -- systems that know the person
        customers.has_web_account,
        customers.has_crm_contact,
        customers.has_loyalty_card,

        -- segments at the scoring date
        lifecycle.snapshot_date as segment_date,
        lifecycle.lifecycle_segment,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_cell,
        abc_xyz.abc_class,
        abc_xyz.xyz_class,
        abc_xyz.abc_xyz_class,

        -- churn model, latest scoring date
        cast(churn_scores.scoring_date as date) as churn_scoring_date,
        cast(churn_scores.horizon_days as bigint) as churn_horizon_days,
        cast(churn_scores.churn_probability as float8) as churn_probability,
        cast(churn_scores.risk_band as varchar) as churn_risk_band,
        cast(churn_scores.reason_1 as varchar) as churn_reason_1,
        cast(churn_scores.reason_2 as varchar) as churn_reason_2,
        cast(churn_scores.reason_3 as varchar) as churn_reason_3,
        -- log-odds each reason adds to the churn score
        cast(churn_scores.reason_1_contribution as float8) as churn_reason_1_contribution,
        cast(churn_scores.reason_2_contribution as float8) as churn_reason_2_contribution,
        cast(churn_scores.reason_3_contribution as float8) as churn_reason_3_contribution,
        cast(churn_scores.model_version as varchar) as churn_model_version,

        -- lifetime-value model, latest scoring date
        cast(clv_scores.scoring_date as date) as clv_scoring_date,
        cast(clv_scores.horizon_days as bigint) as clv_horizon_days,
        cast(clv_scores.predicted_revenue as float8) as predicted_revenue,
        cast(clv_scores.clv_decile as bigint) as clv_decile,
        cast(clv_scores.reason_1 as varchar) as value_reason_1,
        cast(clv_scores.reason_2 as varchar) as value_reason_2,
        cast(clv_scores.reason_3 as varchar) as value_reason_3,
        -- log revenue each reason adds to (> 0) or takes from (< 0) the CLV score
        cast(clv_scores.reason_1_contribution as float8) as value_reason_1_contribution,
        cast(clv_scores.reason_2_contribution as float8) as value_reason_2_contribution,
        cast(clv_scores.reason_3_contribution as float8) as value_reason_3_contribution,
        cast(clv_scores.model_version as varchar) as clv_model_version,

        -- BTYD model, latest scoring date
        cast(btyd_scores.scoring_date as date) as btyd_scoring_date,
        cast(btyd_scores.horizon_days as bigint) as btyd_horizon_days,
        cast(btyd_scores.expected_orders as float8) as expected_orders,
        cast(btyd_scores.model_version as varchar) as btyd_model_version,

        -- order history before the scoring date, in the order currency and days
        {{ money('order_history.monetary_total') }} as historic_value,
        {{ money('order_history.avg_order_value') }} as average_order_value,
        cast(order_history.mean_days_between_orders as float8) as average_days_between_orders,
        next_order.expected_next_order_date,
        next_order.expected_next_order_date < next_order.snapshot_date as next_order_overdue,

        -- revenue the churn model expects to lose: null unless both models scored the customer
        cast(churn_scores.churn_probability * clv_scores.predicted_revenue as float8) as value_at_risk

    from customers
    left join lifecycle
        on customers.customer_id = lifecycle.customer_id
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join abc_xyz
        on customers.customer_id = abc_xyz.customer_id
    left join churn_scores
        on customers.customer_id = churn_scores.customer_id
    left join clv_scores
        on customers.customer_id = clv_scores.customer_id
    left join btyd_scores
        on customers.customer_id = btyd_scores.customer_id
    left join order_history
        on customers.customer_id = order_history.customer_id
    left join next_order
        on customers.customer_id = next_order.customer_id

)

select * from final
