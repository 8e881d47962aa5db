{#- Point-in-time predicates for features at a snapshot date. Everything a feature reads happened
    strictly before the snapshot instant (snapshot_date 00:00): an event exactly at it is excluded. -#}

{#- `event_at` lies in the `days` before the snapshot: [snapshot - days, snapshot). -#}
{% macro in_trailing_days(event_at, snapshot_date, days) -%}
    ({{ event_at }} >= {{ dbt.dateadd('day', -1 * days, snapshot_date) }} and {{ event_at }} < {{ snapshot_date }})
{%- endmacro %}


{#- The version valid over [valid_from, valid_to) is the one in force just before the snapshot. -#}
{% macro version_in_force_before(snapshot_date, valid_from='valid_from', valid_to='valid_to') -%}
    ({{ valid_from }} < {{ snapshot_date }} and ({{ valid_to }} is null or {{ valid_to }} >= {{ snapshot_date }}))
{%- endmacro %}


{#- Whole days from `start_at` to `end_at` (calendar-day boundaries crossed), as bigint everywhere. -#}
{% macro days_between(start_at, end_at) -%}
    cast({{ dbt.datediff(start_at, end_at, 'day') }} as bigint)
{%- endmacro %}
