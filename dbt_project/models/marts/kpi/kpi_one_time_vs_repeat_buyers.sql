-- Per month: the buyers of the month split into one-time buyers (their only order to date is in this
-- month) and repeat buyers (two or more orders by the end of the month), with their shares of the
-- month's buyers and net revenue.

with

months as (

    select month_start, is_complete
    from {{ ref('kpi_months') }}

),

customer_months as (

    select
        activity_month,
        net_revenue,
        orders_to_date = 1 as is_one_time_buyer
    from {{ ref('customer_monthly_activity') }}

),

monthly as (

    select
        activity_month,
        count(*) as buyers,
        {{ count_where('is_one_time_buyer') }} as one_time_buyers,
        sum(net_revenue) as net_revenue,
        {{ sum_where('net_revenue', 'is_one_time_buyer') }} as one_time_buyer_revenue
    from customer_months
    group by activity_month

),

final as (

    select
        -- grain
        months.month_start,
        months.is_complete,

        -- buyers
        coalesce(monthly.buyers, 0) as buyers,
        coalesce(monthly.one_time_buyers, 0) as one_time_buyers,
        coalesce(monthly.buyers - monthly.one_time_buyers, 0) as repeat_buyers,
        {{ to_double('monthly.one_time_buyers') }} / nullif(monthly.buyers, 0) as one_time_buyer_share,
        {{ to_double('monthly.buyers - monthly.one_time_buyers') }} / nullif(monthly.buyers, 0) as repeat_buyer_share,

        -- net revenue
        {{ money('coalesce(monthly.net_revenue, 0)') }} as net_revenue,
        {{ money('coalesce(monthly.one_time_buyer_revenue, 0)') }} as one_time_buyer_revenue,
        {{ money('coalesce(monthly.net_revenue - monthly.one_time_buyer_revenue, 0)') }} as repeat_buyer_revenue,
        {{ to_double('monthly.one_time_buyer_revenue') }} / nullif({{ to_double('monthly.net_revenue') }}, 0) as one_time_revenue_share,
        {{ to_double('monthly.net_revenue - monthly.one_time_buyer_revenue') }} / nullif({{ to_double('monthly.net_revenue') }}, 0) as repeat_revenue_share

    from months
    left join monthly
        on months.month_start = monthly.activity_month

)

select * from final
