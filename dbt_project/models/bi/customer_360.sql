{{ config(tags=['customer_360']) }}

-- One row per known customer (the unknown customer left out): the golden record (dim_customers) with the
-- customer's lifecycle segment, RFM scores and ABC/XYZ class at the scoring date, and each model's latest
-- scores at or before the scoring date (a model that could not score this date leaves its previous
-- scores, dated by their scoring-date column). A customer without a segment, class or score (no orders
-- in the window, not scored) keeps nulls there.

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

churn_scores as (

    select
        customer_id,
        scoring_date,
        horizon_days,
        churn_probability,
        risk_band,
        reason_1,
        reason_2,
        reason_3,
        model_version
    from {{ source('ml', 'customer_churn_scores') }}
    where scoring_date = ({{ latest_scoring_date(source('ml', 'customer_churn_scores')) }})

),

clv_scores as (

    select customer_id, scoring_date, horizon_days, predicted_revenue, clv_decile, model_version
    from {{ source('ml', 'customer_clv') }}
    where scoring_date = ({{ latest_scoring_date(source('ml', 'customer_clv')) }})

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
        cast(churn_scores.model_version as varchar) as churn_model_version,

        -- lifetime-value model, latest scoring date
        cast(clv_scores.scoring_date as date) as clv_scoring_date,
        cast(clv_scores.horizon_days as bigint) as clv_horizon_days,
        cast(clv_scores.predicted_revenue as float8) as predicted_revenue,
        cast(clv_scores.clv_decile as bigint) as clv_decile,
        cast(clv_scores.model_version as varchar) as clv_model_version

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

)

select * from final
