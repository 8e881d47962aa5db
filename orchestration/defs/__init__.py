"""Asset definitions, one package per stage of the data flow."""
