{#- Identifier and category normalisation shared by every staging model. Blank strings become null. -#}

{% macro normalize_id(column) -%}
    nullif(upper(trim({{ column }})), '')
{%- endmacro %}


{% macro normalize_category(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}


{#- PII hashes arrive as hex digests from the loader; only guard blanks and case. -#}
{% macro normalize_hash(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}
