{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ticket_id',
        on_schema_change='fail',
    )
}}

-- One row per support ticket, its latest version, with the customer of the contact who opened it
-- (`int_contact_customers`: the unknown customer for a contact no export knows yet).
-- Incremental by load time (`loaded_since_last_build`): a build rebuilds the tickets whose kept (latest)
-- version was loaded since the last build, plus stored tickets whose customer has since been resolved
-- differently. delete+insert on ticket_id replaces rebuilt tickets, never duplicating one.

with

tickets as (

    select
        ticket_id,
        contact_id,
        category,
        status,
        satisfaction_score,
        opened_at,
        updated_at,
        _export_date,
        _loaded_at
    from {{ ref('stg_crm__support_tickets') }}

),

contact_customers as (

    select contact_id, customer_id
    from {{ ref('int_contact_customers') }}

),

customer_tickets as (

    select
        tickets.ticket_id,
        tickets.contact_id,
        contact_customers.customer_id,
        tickets.category,
        tickets.status,
        tickets.satisfaction_score,
        tickets.opened_at,
        cast(tickets.opened_at as date) as opened_date,
        tickets.updated_at,
        tickets._export_date,
        tickets._loaded_at
    from tickets
    left join contact_customers
        on tickets.contact_id = contact_customers.contact_id

),

tickets_loaded as (

    select ticket_id
    from customer_tickets
    where {{ loaded_since_last_build('_loaded_at') }}

),

{% if is_incremental() %}

tickets_with_new_customer as (

    {{ stored_keys_with_new_customer('customer_tickets', ['ticket_id']) }}

),

tickets_to_rebuild as (

    select ticket_id from tickets_loaded
    union
    select ticket_id from tickets_with_new_customer

),

{% else %}

tickets_to_rebuild as (

    select ticket_id from tickets_loaded

),

{% endif %}

final as (

    select
        -- ids
        customer_tickets.ticket_id,
        customer_tickets.contact_id,
        customer_tickets.customer_id,

        -- what and how it went
        customer_tickets.category,
        customer_tickets.status,
        customer_tickets.satisfaction_score,

        -- when
        customer_tickets.opened_at,
        customer_tickets.opened_date,
        customer_tickets.updated_at,

        -- load metadata
        customer_tickets._export_date,
        customer_tickets._loaded_at

    from customer_tickets
    inner join tickets_to_rebuild
        on customer_tickets.ticket_id = tickets_to_rebuild.ticket_id

)

select * from final
