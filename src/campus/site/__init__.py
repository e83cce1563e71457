"""The site: the composition root above every capability (app factory, routes, shell pages,
capability registry). Nothing below it imports it."""
