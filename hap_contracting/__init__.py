"""The contracting system's Django apps, one per part of the domain; docs/architecture.md has the
map and the order in which they may depend on each other."""
