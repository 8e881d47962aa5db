{#- Identity anchors. A person is anchored on the normalised e-mail hash when one is known, else on
    the record's own key ('<kind>:<id>'); customer_id is the md5 of the anchor: deterministic and
    opaque. -#}

{% macro email_anchor(email_hash_column) -%}
    'email:' || {{ email_hash_column }}
{%- endmacro %}


{% macro own_anchor(kind, id_column) -%}
    '{{ kind }}:' || {{ id_column }}
{%- endmacro %}


{% macro customer_key(anchor_column) -%}
    {{ dbt.hash(anchor_column) }}
{%- endmacro %}


{#- The customer key of facts whose customer cannot be resolved (an anonymous store order, an account,
    card or contact id that no export knows): kept, never dropped, and one row of dim_customers. -#}
{% macro unknown_customer_id() -%}
    'unknown'
{%- endmacro %}


{#- A resolved customer_id, or the unknown customer when there is none. -#}
{% macro customer_or_unknown(customer_id_column) -%}
    coalesce({{ customer_id_column }}, {{ unknown_customer_id() }})
{%- endmacro %}
