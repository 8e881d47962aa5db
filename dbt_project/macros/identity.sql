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
