-- One row per order with the customer who placed it: by web account first, then guest-checkout
-- e-mail, then loyalty card. Anonymous store orders (none of the three) get customer_id null.

with

orders as (

    select order_id, account_id, guest_email_hash, loyalty_card_number
    from {{ ref('stg_sales__orders') }}

),

identities as (

    select source, source_id, customer_id
    from {{ ref('int_customer_identities') }}

),

matched as (

    select
        orders.order_id,
        by_account.customer_id as account_customer_id,
        by_guest_email.customer_id as guest_email_customer_id,
        by_card.customer_id as card_customer_id
    from orders
    left join identities as by_account
        on by_account.source = 'customer_accounts'
        and orders.account_id = by_account.source_id
    left join identities as by_guest_email
        on by_guest_email.source = 'guest_email'
        and orders.guest_email_hash = by_guest_email.source_id
    left join identities as by_card
        on by_card.source = 'loyalty_members'
        and orders.loyalty_card_number = by_card.source_id

),

final as (

    select
        order_id,
        coalesce(account_customer_id, guest_email_customer_id, card_customer_id) as customer_id,
        case
            when account_customer_id is not null then 'account'
            when guest_email_customer_id is not null then 'guest_email'
            when card_customer_id is not null then 'loyalty_card'
            else 'anonymous'
        end as identified_by
    from matched

)

select * from final
