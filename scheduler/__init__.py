"""The monitor's clock: APScheduler jobs built from incident files, and their run history."""
