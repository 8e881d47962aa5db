-- One row per CRM contact id with the customer it belongs to: every contact the contacts export
-- describes, and every contact id a support ticket or an e-mail event names. A contact id no contacts
-- export knows (yet) has the unknown customer (`unknown_customer_id()`); once its contact arrives, the
-- facts move its stored tickets and events to the person (`stored_keys_with_new_customer`). The one way
-- tickets, e-mail events and the engagement features reach their customer.

with

contact_identities as (

    select source_id as contact_id, customer_id
    from {{ ref('int_customer_identities') }}
    where source = 'contacts'

),

tickets as (

    select contact_id
    from {{ ref('stg_crm__support_tickets') }}

),

email_events as (

    select contact_id
    from {{ ref('stg_crm__marketing_events') }}

),

contact_ids as (

    select contact_id from contact_identities
    union
    select contact_id from tickets
    union
    select contact_id from email_events

),

final as (

    select
        contact_ids.contact_id,
        {{ customer_or_unknown('contact_identities.customer_id') }} as customer_id
    from contact_ids
    left join contact_identities
        on contact_ids.contact_id = contact_identities.contact_id
    where contact_ids.contact_id is not null

)

select * from final
