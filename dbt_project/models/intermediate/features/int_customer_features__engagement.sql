-- CRM engagement features per (customer, snapshot date), point-in-time: support tickets opened and
-- e-mail events that occurred strictly before the snapshot, through the customer's contacts.

with

snapshots as (

    select customer_id, snapshot_date
    from {{ ref('int_customer_snapshots') }}

),

contact_customers as (

    select contact_id, customer_id
    from {{ ref('int_contact_customers') }}
    where customer_id <> {{ unknown_customer_id() }}

),

tickets as (

    select
        contact_customers.customer_id,
        tickets.ticket_id,
        tickets.category,
        tickets.opened_at
    from {{ ref('stg_crm__support_tickets') }} as tickets
    inner join contact_customers
        on tickets.contact_id = contact_customers.contact_id

),

email_events as (

    select
        contact_customers.customer_id,
        events.event_id,
        events.event_type,
        events.occurred_at
    from {{ ref('stg_crm__marketing_events') }} as events
    inner join contact_customers
        on events.contact_id = contact_customers.contact_id

),

ticket_counts as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,
        count(*) as tickets_365d,
        {{ count_where("tickets.category = 'complaint'") }} as complaints_365d
    from snapshots
    inner join tickets
        on snapshots.customer_id = tickets.customer_id
        and {{ in_trailing_days('tickets.opened_at', 'snapshots.snapshot_date', 365) }}
    group by snapshots.customer_id, snapshots.snapshot_date

),

email_counts as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,
        {{ count_where("email_events.event_type = 'opened'") }} as emails_opened_90d,
        {{ count_where("email_events.event_type = 'clicked'") }} as emails_clicked_90d
    from snapshots
    inner join email_events
        on snapshots.customer_id = email_events.customer_id
        and email_events.event_type in ('opened', 'clicked')
        and {{ in_trailing_days('email_events.occurred_at', 'snapshots.snapshot_date', 90) }}
    group by snapshots.customer_id, snapshots.snapshot_date

),

first_unsubscribes as (

    select
        customer_id,
        min(occurred_at) as first_unsubscribed_at
    from email_events
    where event_type = 'unsubscribed'
    group by customer_id

),

final as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,

        -- support
        coalesce(ticket_counts.tickets_365d, 0) as tickets_365d,
        coalesce(ticket_counts.complaints_365d, 0) as complaints_365d,

        -- e-mail marketing
        coalesce(email_counts.emails_opened_90d, 0) as emails_opened_90d,
        coalesce(email_counts.emails_clicked_90d, 0) as emails_clicked_90d,
        coalesce(first_unsubscribes.first_unsubscribed_at < snapshots.snapshot_date, false) as unsubscribed

    from snapshots
    left join ticket_counts
        on snapshots.customer_id = ticket_counts.customer_id
        and snapshots.snapshot_date = ticket_counts.snapshot_date
    left join email_counts
        on snapshots.customer_id = email_counts.customer_id
        and snapshots.snapshot_date = email_counts.snapshot_date
    left join first_unsubscribes
        on snapshots.customer_id = first_unsubscribes.customer_id

)

select * from final
