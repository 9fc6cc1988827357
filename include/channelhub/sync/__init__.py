"""The sync flows: inventory (INVEX), orders and products between a shop and the ERP, with the data
mapper, and the activity log of every record that moved."""
