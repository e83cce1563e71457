"""Partner suggestions from complementary expertise and needs, and introduction requests."""
