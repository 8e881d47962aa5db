{#- Golden-record survivorship, the one definition dim_customers, dim_customers_history and the point-in-time
    features share. Over a person's attribute versions (rows of int_customer_attribute_versions, aliased
    `versions`, grouped by customer and point in time) each attribute takes its most recent non-null value
    (latest valid_from); ties go to the source with the smaller declared source_priority, then to the
    greater source_id. loyalty_tier is null when no card version is in force (consumers say 'none'). -#}
{% macro golden_record_attributes(versions) -%}
    {%- set order_by = versions ~ '.valid_from desc, ' ~ versions ~ '.source_priority, ' ~ versions ~ '.source_id desc' -%}
    {%- for attribute in golden_record_attribute_names() %}
    {{ first_non_null(versions ~ '.' ~ attribute, order_by) }} as {{ attribute }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{% macro golden_record_attribute_names() -%}
    {{ return(['region', 'age_band', 'acquisition_channel', 'marketing_consent', 'loyalty_tier']) }}
{%- endmacro %}
