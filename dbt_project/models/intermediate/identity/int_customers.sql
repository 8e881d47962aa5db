-- One row per resolved customer: when the person was first seen and which systems know them.

with

identities as (

    select customer_id, source, first_seen_at
    from {{ ref('int_customer_identities') }}

),

order_customers as (

    select order_id, customer_id
    from {{ ref('int_order_customers') }}
    where customer_id <> {{ unknown_customer_id() }}

),

orders as (

    select order_id, ordered_at
    from {{ ref('stg_sales__orders') }}

),

first_orders as (

    select
        order_customers.customer_id,
        min(orders.ordered_at) as first_order_at
    from order_customers
    inner join orders
        on order_customers.order_id = orders.order_id
    group by order_customers.customer_id

),

customer_sources as (

    select
        customer_id,
        min(first_seen_at) as first_identity_at,
        {{ dbt.bool_or("source = 'customer_accounts'") }} as has_web_account,
        {{ dbt.bool_or("source = 'contacts'") }} as has_crm_contact,
        {{ dbt.bool_or("source = 'loyalty_members'") }} as has_loyalty_card
    from identities
    group by customer_id

),

final as (

    select
        customer_sources.customer_id,

        -- first contact with the business, whichever system saw the person first
        case
            when first_orders.first_order_at < customer_sources.first_identity_at
                then first_orders.first_order_at
            else coalesce(customer_sources.first_identity_at, first_orders.first_order_at)
        end as first_seen_at,

        -- systems that know the person
        customer_sources.has_web_account,
        customer_sources.has_crm_contact,
        customer_sources.has_loyalty_card

    from customer_sources
    left join first_orders
        on customer_sources.customer_id = first_orders.customer_id

)

select * from final
