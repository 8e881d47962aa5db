{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='fail',
    )
}}

-- One row per e-mail marketing event (sent, opened, clicked, unsubscribed) with the customer of the
-- contact it went to (`int_contact_customers`: the unknown customer for a contact no export knows yet).
-- Incremental by load time (`loaded_since_last_build`): a build rebuilds the events whose kept copy was
-- loaded since the last build (events never change; a re-export moves the kept copy to its later day),
-- plus stored events whose customer has since been resolved differently. delete+insert on event_id
-- replaces rebuilt events, never duplicating one.

with

events as (

    select
        event_id,
        contact_id,
        campaign_id,
        event_type,
        occurred_at,
        _export_date,
        _loaded_at
    from {{ ref('stg_crm__marketing_events') }}

),

contact_customers as (

    select contact_id, customer_id
    from {{ ref('int_contact_customers') }}

),

customer_events as (

    select
        events.event_id,
        events.contact_id,
        contact_customers.customer_id,
        events.campaign_id,
        events.event_type,
        events.occurred_at,
        cast(events.occurred_at as date) as event_date,
        events._export_date,
        events._loaded_at
    from events
    left join contact_customers
        on events.contact_id = contact_customers.contact_id

),

events_loaded as (

    select event_id
    from customer_events
    where {{ loaded_since_last_build('_loaded_at') }}

),

{% if is_incremental() %}

events_with_new_customer as (

    {{ stored_keys_with_new_customer('customer_events', ['event_id']) }}

),

events_to_rebuild as (

    select event_id from events_loaded
    union
    select event_id from events_with_new_customer

),

{% else %}

events_to_rebuild as (

    select event_id from events_loaded

),

{% endif %}

final as (

    select
        -- ids
        customer_events.event_id,
        customer_events.contact_id,
        customer_events.customer_id,
        customer_events.campaign_id,

        -- what and when
        customer_events.event_type,
        customer_events.occurred_at,
        customer_events.event_date,

        -- load metadata
        customer_events._export_date,
        customer_events._loaded_at

    from customer_events
    inner join events_to_rebuild
        on customer_events.event_id = events_to_rebuild.event_id

)

select * from final
