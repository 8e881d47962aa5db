-- Per month, net revenue of identified customers decomposed as R = N x L x V: N active customers
-- (ordering in the month), L orders per active customer, V net revenue per order. L = orders / N and
-- V = R / orders, so N x L x V equals R exactly (checked to the cent by a data test).

with

months as (

    select month_start, is_complete
    from {{ ref('kpi_months') }}

),

monthly as (

    select
        activity_month,
        count(*) as active_customers,
        cast(sum(order_count) as bigint) as orders,
        sum(net_revenue) as net_revenue
    from {{ ref('customer_monthly_activity') }}
    group by activity_month

),

final as (

    select
        -- grain
        months.month_start,
        months.is_complete,

        -- R, and the counts behind its factors
        {{ money('coalesce(monthly.net_revenue, 0)') }} as net_revenue,
        coalesce(monthly.active_customers, 0) as active_customers,
        coalesce(monthly.orders, 0) as orders,

        -- the factors L and V; null in a month without orders
        {{ to_double('monthly.orders') }} / nullif(monthly.active_customers, 0) as orders_per_customer,
        {{ to_double('monthly.net_revenue') }} / nullif(monthly.orders, 0) as revenue_per_order

    from months
    left join monthly
        on months.month_start = monthly.activity_month

)

select * from final
