"""Events: publication, registration with capacity and waitlist, calendar, check-in, stats."""
