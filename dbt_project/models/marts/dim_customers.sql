-- One row per resolved customer: lifetime order figures, current CRM attributes (most recent non-null
-- value across the person's contacts) and current loyalty tier.

with

customers as (

    select * from {{ ref('int_customers') }}

),

orders as (

    select customer_id, ordered_at, gross_amount, refunded_amount, net_amount
    from {{ ref('int_orders') }}
    where customer_id is not null

),

identities as (

    select source, source_id, customer_id
    from {{ ref('int_customer_identities') }}
    where source in ('contacts', 'loyalty_members')

),

contacts as (

    select
        identities.customer_id,
        contacts.contact_id,
        contacts.region,
        contacts.age_band,
        contacts.acquisition_channel,
        contacts.marketing_consent,
        contacts.updated_at
    from {{ ref('stg_crm__contacts') }} as contacts
    inner join identities
        on identities.source = 'contacts'
        and contacts.contact_id = identities.source_id

),

loyalty_cards as (

    select
        identities.customer_id,
        cards.card_number,
        cards.tier,
        cards.updated_at
    from {{ ref('stg_crm__loyalty_members') }} as cards
    inner join identities
        on identities.source = 'loyalty_members'
        and cards.card_number = identities.source_id

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

contact_attributes as (

    select
        customer_id,
        {{ first_non_null('region', 'updated_at desc, contact_id desc') }} as region,
        {{ first_non_null('age_band', 'updated_at desc, contact_id desc') }} as age_band,
        {{ first_non_null('acquisition_channel', 'updated_at desc, contact_id desc') }} as acquisition_channel,
        {{ first_non_null('marketing_consent', 'updated_at desc, contact_id desc') }} as marketing_consent
    from contacts
    group by customer_id

),

loyalty_tiers as (

    select
        customer_id,
        {{ first_non_null('tier', 'updated_at desc, card_number desc') }} as loyalty_tier
    from loyalty_cards
    group by customer_id

),

final as (

    select
        -- ids
        customers.customer_id,

        -- lifecycle
        customers.first_seen_at,
        order_totals.first_order_at,
        order_totals.last_order_at,

        -- lifetime value, in the order currency
        coalesce(order_totals.lifetime_orders, 0) as lifetime_orders,
        {{ money('coalesce(order_totals.lifetime_gross_revenue, 0)') }} as lifetime_gross_revenue,
        {{ money('coalesce(order_totals.lifetime_refunds, 0)') }} as lifetime_refunds,
        {{ money('coalesce(order_totals.lifetime_net_revenue, 0)') }} as lifetime_net_revenue,

        -- CRM attributes
        contact_attributes.region,
        contact_attributes.age_band,
        contact_attributes.acquisition_channel,
        contact_attributes.marketing_consent,
        coalesce(loyalty_tiers.loyalty_tier, 'none') as loyalty_tier,

        -- systems that know the person
        customers.has_web_account,
        customers.has_crm_contact,
        customers.has_loyalty_card

    from customers
    left join order_totals
        on customers.customer_id = order_totals.customer_id
    left join contact_attributes
        on customers.customer_id = contact_attributes.customer_id
    left join loyalty_tiers
        on customers.customer_id = loyalty_tiers.customer_id

)

select * from final
