-- One row per resolved customer, plus one row for the unknown customer that unresolvable facts carry
-- (`unknown_customer_id()`): lifetime order figures, the golden record of CRM attributes and loyalty
-- tier as of now (`golden_record_attributes` over the versions currently in force), and which systems
-- know the person.

with

customers as (

    select * from {{ ref('int_customers') }}

),

orders as (

    select customer_id, ordered_at, gross_amount, refunded_amount, net_amount
    from {{ ref('int_orders') }}

),

current_attribute_versions as (

    select *
    from {{ ref('int_customer_attribute_versions') }}
    where valid_to is null

),

order_totals as (

    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as lifetime_orders,
        sum(gross_amount) as lifetime_gross_revenue,
        sum(refunded_amount) as lifetime_refunds,
        sum(net_amount) as lifetime_net_revenue
    from orders
    group by customer_id

),

golden_attributes as (

    select
        current_attribute_versions.customer_id,
        {{ golden_record_attributes('current_attribute_versions') }}
    from current_attribute_versions
    group by current_attribute_versions.customer_id

),

customers_and_unknown as (

    select
        customer_id,
        first_seen_at,
        has_web_account,
        has_crm_contact,
        has_loyalty_card,
        false as is_unknown_customer
    from customers

    union all

    -- the unknown customer: first seen at its first order, known to no system
    select
        {{ unknown_customer_id() }} as customer_id,
        (select first_order_at from order_totals where customer_id = {{ unknown_customer_id() }}) as first_seen_at,
        false as has_web_account,
        false as has_crm_contact,
        false as has_loyalty_card,
        true as is_unknown_customer

),

final as (

    select
        -- ids
        customers_and_unknown.customer_id,
        customers_and_unknown.is_unknown_customer,

        -- lifecycle
        customers_and_unknown.first_seen_at,
        order_totals.first_order_at,
        order_totals.last_order_at,

        -- lifetime value, in the order currency
        coalesce(order_totals.lifetime_orders, 0) as lifetime_orders,
        {{ money('coalesce(order_totals.lifetime_gross_revenue, 0)') }} as lifetime_gross_revenue,
        {{ money('coalesce(order_totals.lifetime_refunds, 0)') }} as lifetime_refunds,
        {{ money('coalesce(order_totals.lifetime_net_revenue, 0)') }} as lifetime_net_revenue,

        -- golden record: CRM attributes and loyalty tier now
        golden_attributes.region,
        golden_attributes.age_band,
        golden_attributes.acquisition_channel,
        golden_attributes.marketing_consent,
        coalesce(golden_attributes.loyalty_tier, 'none') as loyalty_tier,

        -- systems that know the person
        customers_and_unknown.has_web_account,
        customers_and_unknown.has_crm_contact,
        customers_and_unknown.has_loyalty_card

    from customers_and_unknown
    left join order_totals
        on customers_and_unknown.customer_id = order_totals.customer_id
    left join golden_attributes
        on customers_and_unknown.customer_id = golden_attributes.customer_id

)

select * from final
