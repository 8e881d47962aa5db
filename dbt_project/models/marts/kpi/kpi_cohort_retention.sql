-- Monthly acquisition cohorts: per (cohort month, activity month), the customers whose first order was
-- in the cohort month, how many of them ordered in the activity month, and their net revenue then.
-- Month 0 is the cohort month itself, so its retention is 1 by construction.

with

months as (

    select month_start, is_complete
    from {{ ref('kpi_months') }}

),

activity as (

    select customer_id, activity_month, first_order_month, net_revenue
    from {{ ref('customer_monthly_activity') }}

),

cohorts as (

    select
        first_order_month as cohort_month,
        count(*) as cohort_customers
    from activity
    where activity_month = first_order_month
    group by first_order_month

),

cohort_activity as (

    select
        first_order_month as cohort_month,
        activity_month,
        count(*) as active_customers,
        sum(net_revenue) as net_revenue
    from activity
    group by first_order_month, activity_month

),

final as (

    select
        -- grain
        cohorts.cohort_month,
        months.month_start as activity_month,
        cast({{ dbt.datediff('cohorts.cohort_month', 'months.month_start', 'month') }} as bigint) as months_since_first_order,
        months.is_complete,

        -- retention
        cohorts.cohort_customers,
        coalesce(cohort_activity.active_customers, 0) as active_customers,
        {{ to_double('coalesce(cohort_activity.active_customers, 0)') }} / cohorts.cohort_customers as retention_rate,

        -- revenue
        {{ money('coalesce(cohort_activity.net_revenue, 0)') }} as net_revenue

    from cohorts
    inner join months
        on months.month_start >= cohorts.cohort_month
    left join cohort_activity
        on cohorts.cohort_month = cohort_activity.cohort_month
        and months.month_start = cohort_activity.activity_month

)

select * from final
