-- One row per identity record (account, contact, loyalty card, guest-checkout e-mail) with the anchor
-- of the person it belongs to and customer_id = md5(anchor).
--
-- Anchoring (issue 4 will make it transitive over e-mail, phone and card):
--   accounts, contacts, guest e-mails  -> 'email:<email_hash>' when the e-mail is known
--   loyalty cards                      -> the anchor of the card's contact
--   anything without an e-mail         -> its own anchor ('account:<id>', 'contact:<id>', 'card:<no>')
-- Accounts and cards seen on orders before their own export arrives get their own anchor until then,
-- so every identified order has a customer.

with

accounts as (

    select account_id, email_hash, created_at
    from {{ ref('stg_sales__customer_accounts') }}

),

contacts as (

    select contact_id, email_hash, created_at
    from {{ ref('stg_crm__contacts') }}

),

loyalty_cards as (

    select card_number, contact_id, enrolled_at
    from {{ ref('stg_crm__loyalty_members') }}

),

orders as (

    select account_id, guest_email_hash, loyalty_card_number, ordered_at
    from {{ ref('stg_sales__orders') }}

),

-- accounts: exported ones, plus ones only seen on orders so far

account_records as (

    select account_id, email_hash, created_at as first_seen_at
    from accounts

    union all

    select
        orders.account_id,
        cast(null as {{ dbt.type_string() }}) as email_hash,
        min(orders.ordered_at) as first_seen_at
    from orders
    left join accounts
        on orders.account_id = accounts.account_id
    where orders.account_id is not null
        and accounts.account_id is null
    group by orders.account_id

),

account_identities as (

    select
        'customer_accounts' as source,
        account_id as source_id,
        case
            when email_hash is not null then {{ email_anchor('email_hash') }}
            else {{ own_anchor('account', 'account_id') }}
        end as anchor,
        case when email_hash is not null then 'email_hash' else 'own_anchor' end as match_rule,
        first_seen_at
    from account_records

),

-- contacts: duplicates sharing an e-mail collapse onto one anchor

contact_identities as (

    select
        'contacts' as source,
        contact_id as source_id,
        case
            when email_hash is not null then {{ email_anchor('email_hash') }}
            else {{ own_anchor('contact', 'contact_id') }}
        end as anchor,
        case when email_hash is not null then 'email_hash' else 'own_anchor' end as match_rule,
        created_at as first_seen_at
    from contacts

),

-- loyalty cards: follow the card to its contact; cards only seen on orders so far stand alone

card_identities as (

    select
        'loyalty_members' as source,
        loyalty_cards.card_number as source_id,
        coalesce(
            contact_identities.anchor,
            {{ own_anchor('contact', 'loyalty_cards.contact_id') }}
        ) as anchor,
        'card_to_contact' as match_rule,
        loyalty_cards.enrolled_at as first_seen_at
    from loyalty_cards
    left join contact_identities
        on loyalty_cards.contact_id = contact_identities.source_id

    union all

    select
        'loyalty_members' as source,
        orders.loyalty_card_number as source_id,
        {{ own_anchor('card', 'orders.loyalty_card_number') }} as anchor,
        'own_anchor' as match_rule,
        min(orders.ordered_at) as first_seen_at
    from orders
    left join loyalty_cards
        on orders.loyalty_card_number = loyalty_cards.card_number
    where orders.loyalty_card_number is not null
        and loyalty_cards.card_number is null
    group by orders.loyalty_card_number

),

-- guest checkouts: the e-mail itself is the identity

guest_email_identities as (

    select
        'guest_email' as source,
        guest_email_hash as source_id,
        {{ email_anchor('guest_email_hash') }} as anchor,
        'email_hash' as match_rule,
        min(ordered_at) as first_seen_at
    from orders
    where guest_email_hash is not null
    group by guest_email_hash

),

unioned as (

    select * from account_identities
    union all
    select * from contact_identities
    union all
    select * from card_identities
    union all
    select * from guest_email_identities

),

final as (

    select
        -- identity record
        source,
        source_id,

        -- resolved person
        {{ customer_key('anchor') }} as customer_id,
        anchor,
        match_rule,

        -- timestamps
        first_seen_at

    from unioned

)

select * from final
