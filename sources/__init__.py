"""Everything about data arriving: source contracts, landing-file readers, the raw layer, the demo generator."""
