"""From a declared pipeline to a validated plan, before any job over data runs."""
