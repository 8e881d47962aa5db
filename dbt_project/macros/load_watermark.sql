{#- What the incremental facts rebuild: the keys whose raw rows were loaded since the fact's last build.

    Raw loads stamp every row with its load time (`_loaded_at`), and loads and builds never overlap (the
    warehouse's one writer), so a fact's newest stored `_loaded_at` is a watermark: every row loaded
    after it is new to the fact. Whatever loaded it, a new export day, a backfill of old days, a
    re-delivered file, a shop-database lookback, the next build rebuilds those keys from their latest
    versions, and the facts' delete+insert on their key makes a rebuilt row replace itself, never
    duplicate. A first build (or --full-refresh) takes everything. -#}

{% macro loaded_since_last_build(loaded_at) -%}
    {%- if is_incremental() -%}
        ({{ loaded_at }} > (select coalesce(max(_loaded_at), {{ earliest_load() }}) from {{ this }}))
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}


{% macro earliest_load() -%}
    cast('1900-01-01' as timestamp)
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


{#- A date var as an ISO string, or none when it is absent or empty; anything else fails to compile. -#}
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


{% macro date_literal(iso_date) -%}
    cast('{{ iso_date }}' as date)
{%- endmacro %}
