"""The web site: app factory, route table, pages, JSON API, feeds, accounts."""
