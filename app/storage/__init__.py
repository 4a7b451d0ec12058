"""Storage: peewee models, the database opener, migrations and paged queries. No Qt."""
