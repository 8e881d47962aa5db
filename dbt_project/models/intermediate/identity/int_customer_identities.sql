{{ config(materialized='table') }}

-- Identity resolution: one row per identity record with the person (customer_id) it belongs to.
-- A table: the graph walk is heavy, and query planners misjudge recursive results inside larger
-- queries. The warehouse build rebuilds it before the incremental facts read it; each fact
-- re-resolves its stored rows whose customer changed since (`stored_keys_with_new_customer`).
--
-- Records are linked transitively through shared identifiers: the same e-mail hash, the same phone
-- hash, or a card and the contact it belongs to. Each connected group is one person, anchored on the
-- e-mail hash of its earliest-seen record that has one, else on the earliest record's own anchor;
-- customer_id = md5(anchor): deterministic and opaque.
--
-- match_rule says how a record reached its anchor:
--   card_to_contact  a loyalty card, through the contact it belongs to
--   email_hash       its own e-mail hash is the anchor
--   own_anchor       nothing links it to an e-mail: it is (or shares) the anchor itself
--   phone_hash       linked to the anchor through a shared phone hash (possibly via other records)

with recursive

records as (

    select * from {{ ref('int_identity_records') }}

),

-- the graph: record -- identifier, both ways

record_identifiers as (

    select record_key, 'email:' || email_hash as identifier
    from records
    where email_hash is not null

    union all

    select record_key, 'phone:' || phone_hash as identifier
    from records
    where phone_hash is not null

    union all

    select record_key, 'contact:' || contact_id as identifier
    from records
    where contact_id is not null

),

edges as (

    select record_key as from_node, identifier as to_node from record_identifiers
    union
    select identifier as from_node, record_key as to_node from record_identifiers

),

-- every node each record can reach; `union` keeps the recursion finite

reachable (record_key, node) as (

    select record_key, record_key as node
    from records

    union

    select reachable.record_key, edges.to_node
    from reachable
    inner join edges
        on reachable.node = edges.from_node

),

components as (

    -- records reaching the same nodes share the smallest one as their component key
    select
        record_key,
        min(node) as component_key
    from reachable
    group by record_key

),

component_records as (

    select
        records.*,
        components.component_key
    from records
    inner join components
        on records.record_key = components.record_key

),

component_anchors as (

    select
        component_key,
        {{ first_non_null('email_hash', 'first_seen_at, email_hash') }} as anchor_email_hash,
        {{ first_non_null('own_anchor', 'first_seen_at, own_anchor') }} as earliest_own_anchor
    from component_records
    group by component_key

),

anchored as (

    select
        component_records.*,
        component_anchors.anchor_email_hash,
        case
            when component_anchors.anchor_email_hash is not null
                then {{ email_anchor('component_anchors.anchor_email_hash') }}
            else component_anchors.earliest_own_anchor
        end as anchor
    from component_records
    inner join component_anchors
        on component_records.component_key = component_anchors.component_key

),

final as (

    select
        -- identity record
        source,
        source_id,

        -- resolved person
        {{ customer_key('anchor') }} as customer_id,
        anchor,
        case
            when source = 'loyalty_members' and contact_id is not null then 'card_to_contact'
            when email_hash = anchor_email_hash then 'email_hash'
            when own_anchor = anchor then 'own_anchor'
            else 'phone_hash'
        end as match_rule,

        -- timestamps
        first_seen_at

    from anchored

)

select * from final
