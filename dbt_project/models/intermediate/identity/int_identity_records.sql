-- One row per identity record (web account, CRM contact, loyalty card, guest-checkout e-mail) with the
-- identifiers that can link it to other records and its own anchor for when nothing does.
--
--   identifiers: e-mail hash, phone hash, and for cards and contacts the contact they belong to
--   own anchor:  'account:<id>', 'contact:<id>' (a card: its contact's), 'email:<hash>' for guests
--
-- The customer number an order carries (account_id) is an identity of the shop's account system whether
-- or not the accounts export describes it: a shop without an accounts export (or an account exported
-- later) still has one customer per number, and the number joins identity resolution once its account
-- record arrives with an e-mail or phone. A loyalty card no export knows (yet) resolves to the unknown
-- customer, and moves to its person once the export arrives.

with

accounts as (

    select account_id, email_hash, phone_hash, created_at
    from {{ ref('stg_sales__customer_accounts') }}

),

contacts as (

    select contact_id, email_hash, phone_hash, created_at
    from {{ ref('stg_crm__contacts') }}

),

loyalty_cards as (

    select card_number, contact_id, enrolled_at
    from {{ ref('stg_crm__loyalty_members') }}

),

orders as (

    select account_id, guest_email_hash, ordered_at
    from {{ ref('stg_sales__orders') }}

),

account_records as (

    select
        'customer_accounts' as source,
        account_id as source_id,
        email_hash,
        phone_hash,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        {{ own_anchor('account', 'account_id') }} as own_anchor,
        created_at as first_seen_at
    from accounts

),

order_account_records as (

    -- customer numbers on orders that the accounts export does not (yet) describe
    select
        'customer_accounts' as source,
        orders.account_id as source_id,
        cast(null as {{ dbt.type_string() }}) as email_hash,
        cast(null as {{ dbt.type_string() }}) as phone_hash,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        {{ own_anchor('account', 'orders.account_id') }} as own_anchor,
        min(orders.ordered_at) as first_seen_at
    from orders
    left join accounts
        on orders.account_id = accounts.account_id
    where orders.account_id is not null
        and accounts.account_id is null
    group by orders.account_id

),

contact_records as (

    select
        'contacts' as source,
        contact_id as source_id,
        email_hash,
        phone_hash,
        contact_id,
        {{ own_anchor('contact', 'contact_id') }} as own_anchor,
        created_at as first_seen_at
    from contacts

),

card_records as (

    select
        'loyalty_members' as source,
        card_number as source_id,
        cast(null as {{ dbt.type_string() }}) as email_hash,
        cast(null as {{ dbt.type_string() }}) as phone_hash,
        contact_id,
        {{ own_anchor('contact', 'contact_id') }} as own_anchor,
        enrolled_at as first_seen_at
    from loyalty_cards

),

guest_email_records as (

    select
        'guest_email' as source,
        guest_email_hash as source_id,
        guest_email_hash as email_hash,
        cast(null as {{ dbt.type_string() }}) as phone_hash,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        {{ email_anchor('guest_email_hash') }} as own_anchor,
        min(ordered_at) as first_seen_at
    from orders
    where guest_email_hash is not null
    group by guest_email_hash

),

unioned as (

    select * from account_records
    union all
    select * from order_account_records
    union all
    select * from contact_records
    union all
    select * from card_records
    union all
    select * from guest_email_records

),

final as (

    select
        -- identity record
        source,
        source_id,
        source || ':' || source_id as record_key,

        -- identifiers that link records
        email_hash,
        phone_hash,
        contact_id,

        -- fallback anchor
        own_anchor,

        -- timestamps
        first_seen_at

    from unioned

)

select * from final
