"""Result and source caching for the proxy: keys, memory / disk / Redis tiers, single-flight, purge."""
