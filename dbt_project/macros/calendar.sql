{#- The month spine of the calendars (int_snapshot_dates, kpi_months, customer_abc_xyz's window), set-based
    from a fixed number series: the `month_count` consecutive month starts from the `first_month` column
    of the one-row relation `bounds`, as `month_start` dates, each with the columns of `bounds` (the
    caller cuts the spine at its own end). A null first month gives null month starts. The default count,
    100 years, is more than any calendar here spans. -#}
{% macro month_starts(bounds, first_month, month_count=1200) -%}
    select
        cast({{ dbt.dateadd('month', 'month_numbers.generated_number - 1', bounds ~ '.' ~ first_month) }} as date) as month_start,
        {{ bounds }}.*
    from {{ bounds }}
    cross join ({{ dbt.generate_series(month_count) }}) as month_numbers
{%- endmacro %}
