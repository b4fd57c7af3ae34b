"""One router per resource: models (and their bundle files), jobs, health, the page."""
