-- Per month, the flow of the active customer base. A customer is active at a month boundary when they
-- ordered in the `retention_active_months` calendar months before it. Over month m:
-- at start = active at its first day; retained = active at start and at end; churned = active at start,
-- not at end (their last order left the window and they did not order in m); new = first order in m;
-- reactivated = ordered in m, not active at start, not new. At end = retained + new + reactivated.

{%- set active_months = required_int_var('retention_active_months') %}

with

months as (

    select month_start, is_complete
    from {{ ref('kpi_months') }}

),

activity as (

    select customer_id, activity_month, first_order_month
    from {{ ref('customer_monthly_activity') }}

),

customers as (

    select
        customer_id,
        min(first_order_month) as first_order_month,
        max(activity_month) as last_order_month
    from activity
    group by customer_id

),

customer_month_grid as (

    -- every month from the customer's first order up to the month they leave the active base
    select
        customers.customer_id,
        customers.first_order_month,
        months.month_start
    from customers
    inner join months
        on months.month_start >= customers.first_order_month
        and months.month_start <= {{ dbt.dateadd('month', active_months, 'customers.last_order_month') }}

),

customer_month_orders as (

    select
        customer_month_grid.customer_id,
        customer_month_grid.month_start,
        customer_month_grid.first_order_month = customer_month_grid.month_start as is_new,
        activity.activity_month is not null as ordered_in_month,
        max(activity.activity_month) over (
            partition by customer_month_grid.customer_id
            order by customer_month_grid.month_start
            rows between unbounded preceding and 1 preceding
        ) as previous_order_month
    from customer_month_grid
    left join activity
        on customer_month_grid.customer_id = activity.customer_id
        and customer_month_grid.month_start = activity.activity_month

),

customer_month_status as (

    select
        month_start,
        is_new,
        ordered_in_month,
        coalesce(
            previous_order_month >= {{ dbt.dateadd('month', -1 * active_months, 'month_start') }}, false
        ) as is_active_at_start,
        ordered_in_month or coalesce(
            previous_order_month >= {{ dbt.dateadd('month', 1 - active_months, 'month_start') }}, false
        ) as is_active_at_end
    from customer_month_orders

),

monthly as (

    select
        month_start,
        {{ count_where('is_active_at_start') }} as customers_at_start,
        {{ count_where('is_active_at_start and is_active_at_end') }} as retained_customers,
        {{ count_where('is_active_at_start and not is_active_at_end') }} as churned_customers,
        {{ count_where('is_new') }} as new_customers,
        {{ count_where('ordered_in_month and not is_active_at_start and not is_new') }} as reactivated_customers,
        {{ count_where('is_active_at_end') }} as customers_at_end
    from customer_month_status
    group by month_start

),

final as (

    select
        -- grain
        months.month_start,
        months.is_complete,

        -- the flow: at start - churned + new + reactivated = at end
        coalesce(monthly.customers_at_start, 0) as customers_at_start,
        coalesce(monthly.retained_customers, 0) as retained_customers,
        coalesce(monthly.churned_customers, 0) as churned_customers,
        coalesce(monthly.new_customers, 0) as new_customers,
        coalesce(monthly.reactivated_customers, 0) as reactivated_customers,
        coalesce(monthly.customers_at_end, 0) as customers_at_end,

        -- rates over the customers at start; null when there were none
        {{ to_double('monthly.retained_customers') }} / nullif(monthly.customers_at_start, 0) as retention_rate,
        {{ to_double('monthly.churned_customers') }} / nullif(monthly.customers_at_start, 0) as churn_rate

    from months
    left join monthly
        on months.month_start = monthly.month_start

)

select * from final
