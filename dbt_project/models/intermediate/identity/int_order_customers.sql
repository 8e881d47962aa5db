-- One row per order with the customer who placed it: by web account first, then guest-checkout
-- e-mail, then loyalty card. An order none of them resolves keeps the unknown customer
-- (`unknown_customer_id()`): 'anonymous' without any identifier (a store order without a card),
-- 'unresolved' when its loyalty card is in no export (yet); a customer number (account id) always
-- resolves, as its own identity when no accounts export describes it.

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
        orders.account_id is null
            and orders.guest_email_hash is null
            and orders.loyalty_card_number is null as is_anonymous,
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
        {{ customer_or_unknown('coalesce(account_customer_id, guest_email_customer_id, card_customer_id)') }} as customer_id,
        case
            when account_customer_id is not null then 'account'
            when guest_email_customer_id is not null then 'guest_email'
            when card_customer_id is not null then 'loyalty_card'
            when is_anonymous then 'anonymous'
            else 'unresolved'
        end as identified_by
    from matched

)

select * from final
