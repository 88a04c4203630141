"""Drop-in compatibility layers for other CRM libraries (see :mod:`.lifetimes`)."""
