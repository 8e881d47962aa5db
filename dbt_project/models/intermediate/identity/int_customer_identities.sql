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

-- every record and identifier as a number: the walk below holds a (record, node) pair for every node a
-- record reaches, and pairs of numbers keep that set a fraction of the size of pairs of text keys (at a
-- million customers the walk over text keys needed between 4 and 6 GB)

node_ids as (

    select node, row_number() over (order by node) as node_id
    from (
        select record_key as node from records
        union
        select identifier as node from record_identifiers
    ) as nodes

),

links as (

    select record_node.node_id as record_id, identifier_node.node_id as identifier_id
    from record_identifiers
    inner join node_ids as record_node
        on record_identifiers.record_key = record_node.node
    inner join node_ids as identifier_node
        on record_identifiers.identifier = identifier_node.node

),

edges as (

    select record_id as from_node, identifier_id as to_node from links
    union
    select identifier_id as from_node, record_id as to_node from links

),

-- every node each record can reach; `union` keeps the recursion finite

reachable (record_id, node_id) as (

    select node_ids.node_id as record_id, node_ids.node_id
    from records
    inner join node_ids
        on records.record_key = node_ids.node

    union

    select reachable.record_id, edges.to_node
    from reachable
    inner join edges
        on reachable.node_id = edges.from_node

),

components as (

    -- records reaching the same nodes share the smallest one as their component key
    select
        node_ids.node as record_key,
        min(reachable.node_id) as component_key
    from reachable
    inner join node_ids
        on reachable.record_id = node_ids.node_id
    group by node_ids.node

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
