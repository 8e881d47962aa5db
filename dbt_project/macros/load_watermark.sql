{#- The partition window of the incremental models: a half-open range of raw export dates,
    `min_date - lookback_days <= _export_date < max_date`, from the vars Dagster passes. Either bound may
    be absent; with neither, the window is everything.

    `lookback_days` (default 0) widens the window backwards to pick up rows that were loaded into an
    already processed export day after its run (late files). The facts are delete+insert on their key and
    rebuild every selected key from its latest version, so re-selecting rows from the lookback days
    replaces them instead of duplicating them: the lookback only costs rework. -#}

{% macro iso_date_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', text) -%}
        {{ exceptions.raise_compiler_error("var '" ~ name ~ "' must be an ISO date (YYYY-MM-DD), got '" ~ text ~ "'") }}
    {%- endif -%}
    {%- do modules.datetime.date.fromisoformat(text) -%}
    {{ return(text) }}
{%- endmacro %}


{% macro lookback_days_var() -%}
    {%- set text = var('lookback_days', 0) | string | trim -%}
    {%- if not modules.re.match('^\d+$', text) -%}
        {{ exceptions.raise_compiler_error("var 'lookback_days' must be a whole number of days >= 0, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text | int) }}
{%- endmacro %}


{% macro export_window_bounds() -%}
    {%- set min_date = iso_date_var('min_date') -%}
    {%- set max_date = iso_date_var('max_date') -%}
    {%- if min_date is not none and max_date is not none and min_date >= max_date -%}
        {{ exceptions.raise_compiler_error("export window is empty: min_date " ~ min_date ~ " >= max_date " ~ max_date) }}
    {%- endif -%}
    {%- set lookback_days = lookback_days_var() -%}
    {%- if min_date is not none and lookback_days > 0 -%}
        {%- set first_day = modules.datetime.date.fromisoformat(min_date) - modules.datetime.timedelta(days=lookback_days) -%}
        {%- set min_date = first_day.isoformat() -%}
    {%- endif -%}
    {{ return({'min_date': min_date, 'max_date': max_date}) }}
{%- endmacro %}


{% macro export_window(column) -%}
    {%- set bounds = export_window_bounds() -%}
    {%- set predicates = [] -%}
    {%- if bounds.min_date is not none -%}
        {%- do predicates.append(column ~ " >= " ~ date_literal(bounds.min_date)) -%}
    {%- endif -%}
    {%- if bounds.max_date is not none -%}
        {%- do predicates.append(column ~ " < " ~ date_literal(bounds.max_date)) -%}
    {%- endif -%}
    {%- if predicates -%}
        ({{ predicates | join(' and ') }})
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}


{% macro date_literal(iso_date) -%}
    cast('{{ iso_date }}' as date)
{%- endmacro %}


{#- A whole-number var the deployment must set (Dagster passes every one, see dbt_project.yml). While
    dbt only parses, vars are not given and a placeholder keeps the Jinja arithmetic valid. -#}
{% macro required_int_var(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error("var '" ~ name ~ "' is required: Dagster passes it from the deployment's configuration") }}
        {%- endif -%}
        {{ return(1) }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}
