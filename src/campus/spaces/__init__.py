"""Spaces: buildings, floors, rooms and equipment, allocations to residencies, bookings."""
