"""The opt-out registry: patients who object to the reuse of their data (`service`, the only
way in; `models`). Its own package so that the warehouse, the analyses and federation nodes
honour objections without importing governance, whose forms and pages file them."""
